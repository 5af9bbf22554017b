// `convscope predict` lives in run.cpp beside `run`: both are thin wrappers
// over Engine and share the input handling.
