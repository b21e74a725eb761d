"""Text/image-to-video backends via diffusers."""
