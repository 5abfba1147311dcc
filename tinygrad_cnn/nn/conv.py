"""Convolution layers: ``Conv1d``, ``Conv2d``, ``ConvTranspose1d``, ``ConvTranspose2d`` (as
``torch.nn``).

Each holds ``weight`` and optional ``bias`` :class:`Parameter`\\ s initialised as PyTorch's
(Kaiming-uniform, bound ``1/sqrt(fan_in)``) and calls the functional op in ``forward``, so a
bad input shape gets that op's message.
"""

import numpy as np

from .._checks import check_int
from . import functional as F
from . import init
from .functional._windows import conv_padding, spatial_ints
from .module import Module
from .parameter import Parameter

PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class _ConvNd(Module):
    """Shared construction, initialisation and ``repr`` of the convolution layers."""

    _dims = 2
    _transposed = False

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation,
                 groups, bias, padding_mode, output_padding=0, dtype=None):
        super().__init__()
        layer, dims = type(self).__name__, self._dims
        self.in_channels = check_int(layer, "in_channels", in_channels, minimum=1)
        self.out_channels = check_int(layer, "out_channels", out_channels, minimum=1)
        self.groups = check_int(layer, "groups", groups, minimum=1)
        if in_channels % groups:
            raise ValueError(f"{layer}: in_channels ({in_channels}) must be divisible by "
                             f"groups ({groups})")
        if out_channels % groups:
            raise ValueError(f"{layer}: out_channels ({out_channels}) must be divisible by "
                             f"groups ({groups})")
        if padding_mode not in PADDING_MODES:
            raise ValueError(f"{layer}: padding_mode must be one of "
                             f"{', '.join(map(repr, PADDING_MODES))}, got {padding_mode!r}")
        if self._transposed and padding_mode != "zeros":
            raise ValueError(f"{layer}: only padding_mode='zeros' is supported, "
                             f"got {padding_mode!r}")
        self.kernel_size = spatial_ints(kernel_size, "kernel_size", layer, dims)
        self.stride = spatial_ints(stride, "stride", layer, dims)
        self.dilation = spatial_ints(dilation, "dilation", layer, dims)
        if isinstance(padding, str) and not self._transposed:
            # Validates the string (and 'same' only with stride 1) as the op will.
            as_2d = (lambda sizes: sizes * 2) if dims == 1 else (lambda sizes: sizes)
            conv_padding(padding, as_2d(self.kernel_size), as_2d(self.stride),
                         as_2d(self.dilation), layer)
            self.padding = padding
        else:
            self.padding = spatial_ints(padding, "padding", layer, dims, minimum=0)
        self.output_padding = spatial_ints(output_padding, "output_padding", layer, dims, minimum=0)
        self.padding_mode = padding_mode
        if self._transposed:
            shape = (self.in_channels, self.out_channels // self.groups) + self.kernel_size
        else:
            shape = (self.out_channels, self.in_channels // self.groups) + self.kernel_size
        dtype = np.dtype(np.float32 if dtype is None else dtype)
        self.weight = Parameter(np.empty(shape, dtype=dtype))
        if bias:
            self.bias = Parameter(np.empty((self.out_channels,), dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def _padded(self, x):
        """``(x, padding)`` for the convolution: with a ``padding_mode`` other than zeros,
        ``x`` padded by ``F.pad`` in that mode (PyTorch's ``_reversed_padding_repeated_twice``,
        the odd element of ``'same'`` on the right) and no padding left to the conv."""
        if self.padding_mode == "zeros":
            return x, (self.padding if isinstance(self.padding, str) or self._dims == 2
                       else self.padding[0])
        if self.padding == "valid":
            return x, 0
        if self.padding == "same":
            totals = [d * (k - 1) for k, d in zip(self.kernel_size, self.dilation)]
            pairs = [(t // 2, t - t // 2) for t in totals]
        else:
            pairs = [(p, p) for p in self.padding]
        flat = tuple(w for pair in reversed(pairs) for w in pair)
        return F.pad(x, flat, mode=self.padding_mode), 0

    def reset_parameters(self) -> None:
        """PyTorch's default: Kaiming-uniform weight, bias from U(+-1/sqrt(fan_in))."""
        init.default_layer_init_(self.weight, self.bias)

    def extra_repr(self) -> str:
        dims = self._dims
        text = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}")
        if self.padding != (0,) * dims:
            text += f", padding={self.padding}"
        if self.dilation != (1,) * dims:
            text += f", dilation={self.dilation}"
        if self.output_padding != (0,) * dims:
            text += f", output_padding={self.output_padding}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        if self.padding_mode != "zeros":
            text += f", padding_mode={self.padding_mode}"
        return text


class Conv1d(_ConvNd):
    """1-D convolution (``torch.nn.Conv1d``): x ``(N, C_in, L)`` -> ``(N, C_out, L_out)``.

    weight ``(C_out, C_in/groups, k)``, bias ``(C_out,)``.
    """

    _dims = 1

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 dilation=1, groups=1, bias=True, padding_mode="zeros", dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, dtype=dtype)

    def forward(self, x):
        x, padding = self._padded(x)
        return F.conv1d(x, self.weight, self.bias, self.stride[0], padding,
                        self.dilation[0], self.groups)


class Conv2d(_ConvNd):
    """2-D convolution (``torch.nn.Conv2d``): x ``(N, C_in, H, W)`` -> ``(N, C_out, H_out, W_out)``.

    weight ``(C_out, C_in/groups, kH, kW)``, bias ``(C_out,)``;
    ``H_out = floor((H + 2*padding - dilation*(kH-1) - 1) / stride) + 1``.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 dilation=1, groups=1, bias=True, padding_mode="zeros", dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, dtype=dtype)

    def forward(self, x):
        x, padding = self._padded(x)
        return F.conv2d(x, self.weight, self.bias, self.stride, padding, self.dilation,
                        self.groups)


class _ConvTransposeNd(_ConvNd):
    """Shared constructor (PyTorch's argument order: ``groups`` and ``bias`` before
    ``dilation``) and forward of the transposed convolutions."""

    _transposed = True
    _function = None

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, groups=1, bias=True, dilation=1, padding_mode="zeros",
                 dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, output_padding=output_padding,
                         dtype=dtype)

    def forward(self, x):
        return type(self)._function(x, self.weight, self.bias, self.stride, self.padding,
                                    self.output_padding, self.groups, self.dilation)


class ConvTranspose2d(_ConvTransposeNd):
    """Transposed 2-D convolution (``torch.nn.ConvTranspose2d``), the adjoint of ``Conv2d``.

    x ``(N, C_in, H, W)`` -> ``(N, C_out, H_out, W_out)`` with
    ``H_out = (H-1)*stride - 2*padding + dilation*(kH-1) + output_padding + 1``;
    weight ``(C_in, C_out/groups, kH, kW)``.  Argument order is PyTorch's (``groups`` and
    ``bias`` before ``dilation``); ``fan_in`` for initialisation is ``C_out/groups*kH*kW``,
    as PyTorch computes it.
    """

    _function = staticmethod(F.conv_transpose2d)


class ConvTranspose1d(_ConvTransposeNd):
    """Transposed 1-D convolution (``torch.nn.ConvTranspose1d``), the adjoint of ``Conv1d``.

    x ``(N, C_in, L)`` -> ``(N, C_out, L_out)`` with
    ``L_out = (L-1)*stride - 2*padding + dilation*(k-1) + output_padding + 1``; weight
    ``(C_in, C_out/groups, k)``; argument order and initialisation as ``ConvTranspose2d``.
    """

    _dims = 1
    _function = staticmethod(F.conv_transpose1d)
