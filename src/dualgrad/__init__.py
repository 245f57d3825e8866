"""dualgrad: dual-gradient learning under label noise — training engine and analysis.

``ALGORITHM_VERSION`` names the maths of a training run. The workflow passes
it to every training job, so bumping it reruns all training; edits that keep
the maths (refactors, logging, speed) leave it alone and rerun nothing.
"""

__version__ = "0.1.0"
ALGORITHM_VERSION = "1"
