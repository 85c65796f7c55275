"""bwc: the command line of the body-camera auto-activation conformance harness."""

__version__ = "0.1.0"
