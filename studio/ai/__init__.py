"""Local AI tools: generation, enhancement and foley (heavy imports stay lazy)."""
