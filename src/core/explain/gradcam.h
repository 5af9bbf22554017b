// Grad-CAM (Selvaraju et al. 2017) and Grad-CAM++ (Chattopadhay et al. 2018)
// for a convolutional layer's output A (NHWC or NCHW, batch 1):
//   Grad-CAM    w_c = mean_ij dS/dA_cij
//   Grad-CAM++  w_c = sum_ij a_cij relu(dS/dA_cij),
//               a_cij = g^2 / (2 g^2 + sum_ij(A_cij) g^3)   (g = dS/dA_cij;
//               the closed form assumes S = exp(logit), as the paper and
//               pytorch-grad-cam do)
//   cam = relu(sum_c w_c A_c), then bilinearly resized to the input size.
// S is the class logit (see gradient.h).
#pragma once

#include <string>

#include "core/explain/explanation.h"

namespace convscope {

// An empty `layer` picks the last step whose output is a rank-4 feature map.
// raw: the CAM at the layer's resolution [h, w].
Explanation gradcam(const GradientEngine& gradients, const Tensor& input, const Target& target, std::string layer = "",
                    bool plus_plus = false);

// The layer gradcam() uses when none is named: the last rank-4 activation
// feeding the model's output ("" when there is none).
std::string default_gradcam_layer(const GradientEngine& gradients, const Tensor& input);

}  // namespace convscope
