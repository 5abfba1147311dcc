"""``tinygrad_cnn.functional``: another import path of :mod:`tinygrad_cnn.nn.functional`.

``import tinygrad_cnn.functional as F`` and ``import tinygrad_cnn.nn.functional as F`` give
the same functions; they are defined (and their arguments checked) in the
``tinygrad_cnn/nn/functional/`` package only.
"""

from .nn.functional import *  # noqa: F403  (the same public names)
from .nn.functional import __all__  # noqa: F401
