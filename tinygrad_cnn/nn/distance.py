"""``CosineSimilarity`` and ``PairwiseDistance`` (as ``torch.nn``); each calls its function in
:mod:`tinygrad_cnn.nn.functional`."""

from .._checks import check_bool, check_real, is_int
from . import functional as F
from .module import Module


class CosineSimilarity(Module):
    """The cosine of the angle between ``x1`` and ``x2`` along ``dim``
    (``torch.nn.CosineSimilarity``): broadcast shape without ``dim``."""

    def __init__(self, dim: int = 1, eps: float = 1e-8):
        super().__init__()
        if not is_int(dim):
            raise TypeError(f"CosineSimilarity: dim must be an int, got {dim!r}")
        self.dim = int(dim)
        self.eps = check_real("CosineSimilarity", "eps", eps)

    def forward(self, x1, x2):
        return F.cosine_similarity(x1, x2, self.dim, self.eps)


class PairwiseDistance(Module):
    """``||x1 - x2 + eps||_p`` along the last dimension (``torch.nn.PairwiseDistance``)."""

    def __init__(self, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False):
        super().__init__()
        self.norm = check_real("PairwiseDistance", "p", p)
        self.eps = check_real("PairwiseDistance", "eps", eps)
        self.keepdim = check_bool("PairwiseDistance", "keepdim", keepdim)

    def forward(self, x1, x2):
        return F.pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)
