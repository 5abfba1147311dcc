"""Loss primitives: ``BinaryCrossEntropy``, whose clamped logarithms would make a composed
gradient 0/0 at probabilities of exactly 0 or 1.  The other losses of
:mod:`tinygrad_cnn.nn.functional.loss` are composed of Tensor ops.
"""

import numpy as np

from ..autograd.function import Function

# PyTorch clamps each log at -100, so a probability of exactly 0 or 1 gives a finite loss,
# and bounds the denominator of the gradient below by 1e-12.
LOG_FLOOR = -100.0
GRAD_EPSILON = 1e-12


def _clamped_log(values: np.ndarray) -> np.ndarray:
    return np.maximum(np.log(values), values.dtype.type(LOG_FLOOR))


class BinaryCrossEntropy(Function):
    """``-(t * log(p) + (1 - t) * log(1 - p))`` elementwise, logs clamped at -100
    (``torch.nn.functional.binary_cross_entropy`` before weighting and reduction).

    Backward, as PyTorch's: ``(p - t) / max(p (1 - p), 1e-12)`` for ``p`` and
    ``log(1 - p) - log(p)`` (clamped) for ``t``, written with Tensor ops.
    """

    @staticmethod
    def forward(ctx, probabilities, target):
        ctx.save_for_backward(probabilities, target)
        one = probabilities.dtype.type(1)
        return -(target * _clamped_log(probabilities)
                 + (one - target) * _clamped_log(one - probabilities))

    @staticmethod
    def backward(ctx, grad):
        probabilities, target = ctx.saved_tensors
        grad_p = grad_t = None
        if ctx.needs_input_grad[0]:
            denominator = (probabilities * (1.0 - probabilities)).clip(GRAD_EPSILON, None)
            grad_p = grad * (probabilities - target) / denominator
        if ctx.needs_input_grad[1]:
            log_p = probabilities.clip(np.exp(LOG_FLOOR), None).log()
            log_q = (1.0 - probabilities).clip(np.exp(LOG_FLOOR), None).log()
            grad_t = grad * (log_q - log_p)
        return grad_p, grad_t
