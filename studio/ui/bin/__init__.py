"""The media bin: import, thumbnails, badges, relink, and dragging media onto the timeline."""

from .model import ASSET_ID_ROLE, ASSET_MIME, BinModel, asset_details
from .thumbnails import ThumbnailCache
from .widget import MediaBin

__all__ = ["ASSET_ID_ROLE", "ASSET_MIME", "BinModel", "MediaBin", "ThumbnailCache", "asset_details"]
