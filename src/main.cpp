// ConvScope's web app entry point; everything happens in src/platform.
#include "platform/browser_app.h"

int main() {
    return convscope::platform::run_browser_app();
}
