"""Frame interpolation and upscaling, classical and learned."""
