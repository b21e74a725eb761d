"""OpenTimelineIO bridge: import and export .otio, FCP 7 XML and CMX 3600 EDL.

OpenTimelineIO is the interchange boundary (DESIGN.md fixed point 4), never the model: a file
is read into an ``otio.schema.Timeline`` and converted into a :class:`Project`, and a project
is converted into a Timeline and written through an OTIO adapter.

Whatever a conversion cannot carry is reported as a warning string; nothing is dropped
silently. Errors (unknown extension, unreadable file, adapter failures) raise
:class:`ProjectFileError` with one line naming the file.

Conventions of the conversion:

* Times are rescaled exactly (``Fraction``) to the project rate and rounded to whole frames;
  one warning per file says when rounding changed anything.
* Our ``source_in`` counts from the media start, while OTIO source ranges count in the
  media's own time (often a start timecode such as 01:00:00:00). On import the media
  reference's ``available_range.start_time`` is the media start (0 when it has none); on
  export assets start at 0 and ``available_range`` spans the asset's duration.
* A timeline that lasts beyond its last clip (trailing gaps, transitions at the track
  edges) keeps its length as ``Sequence.min_length``; export writes it back as a trailing
  gap (OTIO only: FCP 7 XML and EDL timelines end with their last clip, and a warning says
  so).
* Nested tracks and stacks are flattened, and a warning names each one: a nested track's
  items are placed inline, a nested stack's bottom layer goes onto the track it is on and
  its upper layers onto tracks made above it ("V2 (nested)"; a new one wherever a clip is in
  the way; layers of the other kind onto extra tracks of that kind). Only what the nested
  item shows is kept (clips are cut to its range, those wholly outside it are dropped with
  a warning), and its forward time warps become the speed of its clips.
* Media are not probed here (``core`` never imports ``media``): an asset's kind comes from
  the tracks its clips sit on ('av' when on both kinds), or from our own metadata when the
  file was written by us.
"""

from .common import DEFAULT_RATE as DEFAULT_RATE
from .common import DEFAULT_SIZE as DEFAULT_SIZE
from .common import META as META
from .formats import FORMATS, format_for_path
from .reading import project_from_otio, read_timeline
from .writing import project_to_otio, write_timeline

__all__ = [
    "FORMATS",
    "format_for_path",
    "project_from_otio",
    "project_to_otio",
    "read_timeline",
    "write_timeline",
]

