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
            ctx.options = {**ctx.options, "max_pixels": str(max_pixels)}
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
            height = max(2, int(frame.height * width / max(1, frame.width)) // 2 * 2)
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
