"""Data augmentation transforms (Keras names): :mod:`deepstep.nn.functional.augment`, re-exported here.

The maths is stateless and lives with the other kernels, so that the augmentation layers of
:mod:`deepstep.nn` use it without ``nn`` depending on ``data``; datasets use it from here.
"""

from ..nn.functional.augment import *  # noqa: F403
from ..nn.functional.augment import __all__  # noqa: F401
