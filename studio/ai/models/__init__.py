"""Model catalogue, locating weights and memory plans."""
