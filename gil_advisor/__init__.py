"""gil-advisor: find threads that cannot run in parallel because of the GIL."""

__version__ = "0.1.0"
