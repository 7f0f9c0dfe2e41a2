"""Pictures of a run, saved as PNG files (matplotlib, imported lazily with the Agg backend).

matplotlib is a dependency of handgrad; where it is missing anyway, each function raises
:class:`MatplotlibMissing` (an ImportError) saying how to get it. Every function writes its
file atomically and returns the path.

=============================  ===========================================================
:func:`plot_training`          loss at every step (raw, smoothed), validation and test per
                               epoch; metrics per epoch; learning rate
:func:`plot_confusion_matrix`  true versus predicted classes, with class names
:func:`plot_filters`           the first layer's filters on one colour scale
:func:`plot_feature_maps`      one image after each convolution block
:func:`plot_misclassified`     wrong predictions, "predicted / true"
=============================  ===========================================================
"""

from ._figure import MatplotlibMissing
from .activations import feature_stages, plot_feature_maps
from .confusion import plot_confusion_matrix
from .curves import plot_history, plot_training, smooth
from .samples import plot_misclassified
from .weights import plot_filters

__all__ = ["MatplotlibMissing", "plot_training", "plot_history", "smooth", "plot_confusion_matrix",
           "plot_filters", "plot_feature_maps", "feature_stages", "plot_misclassified"]
