"""Small JPEG thumbnails of a video frame or an image, decoded with PyAV (for HTML reports).

Decoding is bounded like fingerprinting: a picture larger than ``MAX_PIXELS`` is refused
before a frame is decoded (the declared size is checked, and the decoder is told the
limit so a header that understates it changes nothing), with two decoder threads.
"""

from __future__ import annotations

import io
import os

__all__ = ["MAX_PIXELS", "frame_thumbnail"]

_MAX_FRAMES = 120
_MAX_SHRINK = 3  # JPEG's DCT scaling: 1/2, 1/4 or 1/8
MAX_PIXELS = 8192 * 4320  # as provenance.fingerprint.MAX_PIXELS


def frame_thumbnail(
    path: str | os.PathLike[str], width: int = 192, *, max_pixels: int = MAX_PIXELS
) -> bytes | None:
    """A JPEG of an early frame, or None when the file has no decodable picture (or its
    pictures are larger than ``max_pixels``)."""
    try:
        import av

        # The bound applies while the stream is probed too (probing decodes a frame).
        limits = {"max_pixels": str(max_pixels), "threads": "2"}
        with av.open(os.fspath(path), options=limits) as container:
            streams = container.streams.video
            if not streams:
                return None
            ctx = streams[0].codec_context
            if ctx.width * ctx.height > max_pixels:
                return None
            declared = ctx.width, ctx.height  # the decoder shows the shrunk size once open
            options = {**ctx.options, "max_pixels": str(max_pixels)}
            shrink = _jpeg_shrink(ctx.codec.name, ctx.width, width)
            if shrink:
                options["lowres"] = str(shrink)
            ctx.options = options
            ctx.thread_count = 2
            frame = None
            for n, decoded in enumerate(container.decode(streams[0])):
                if decoded.width * decoded.height > max_pixels:
                    return None
                frame = decoded
                if n >= 3 or n >= _MAX_FRAMES:  # skip a possibly black first frame
                    break
            if frame is None:
                return None
            # the shape as declared: a shrunk decode rounds its sides up
            shown_w, shown_h = declared if shrink else (frame.width, frame.height)
            height = max(2, int(shown_h * width / max(1, shown_w)) // 2 * 2)
            small = frame.reformat(width=width, height=height, format="yuvj420p")
            buf = io.BytesIO()
            with av.open(buf, "w", format="image2pipe") as out:
                stream = out.add_stream("mjpeg", rate=1)
                stream.width, stream.height = width, height
                stream.pix_fmt = "yuvj420p"
                for pkt in stream.encode(small):
                    out.mux(pkt)
                for pkt in stream.encode():
                    out.mux(pkt)
            data = buf.getvalue()
            return data if data.startswith(b"\xff\xd8") else None
    except Exception:  # any decoding problem: no thumbnail, never a failed audit
        return None


def _jpeg_shrink(codec: str, width: int, wanted: int) -> int:
    """How many halvings a JPEG is decoded at (its DCT scaling): the most that keep the
    picture at least ``wanted`` pixels wide. A 12-megapixel photo is then decoded at an
    eighth of its size (issue 19: an ingredient's thumbnail is on every signing's path);
    0 for other codecs."""
    if codec != "mjpeg" or wanted <= 0:
        return 0
    shrink = 0
    while shrink < _MAX_SHRINK and -(-width >> (shrink + 1)) >= wanted:
        shrink += 1
    return shrink
