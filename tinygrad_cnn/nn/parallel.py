"""``DataParallel`` as PyTorch runs it without GPUs: the wrapped module, run as is."""

from .module import Module


class DataParallel(Module):
    """Wraps ``module`` as ``torch.nn.DataParallel`` does on a machine with no GPU: ``forward``
    calls ``module`` directly (there is one device, the CPU), ``.module`` is the wrapped
    module, and state-dict keys carry the ``module.`` prefix, so checkpoints saved from a
    PyTorch ``DataParallel`` model load unchanged.
    """

    def __init__(self, module, device_ids=None, output_device=None, dim: int = 0):
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DataParallel: module must be a Module, got "
                            f"{type(module).__name__}")
        # Without a GPU PyTorch ignores device_ids and output_device; so do we.
        self.module = module
        self.device_ids = []
        self.output_device = None
        self.dim = dim

    def forward(self, *inputs, **kwargs):
        return self.module(*inputs, **kwargs)
