"""Small JPEG thumbnails of a video frame or an image, decoded with PyAV (for HTML reports)."""

from __future__ import annotations

import io
import os

__all__ = ["frame_thumbnail"]

_MAX_FRAMES = 120


def frame_thumbnail(path: str | os.PathLike[str], width: int = 192) -> bytes | None:
    """A JPEG of an early frame, or None when the file has no decodable picture."""
    try:
        import av

        with av.open(os.fspath(path)) as container:
            streams = container.streams.video
            if not streams:
                return None
            frame = None
            for n, decoded in enumerate(container.decode(streams[0])):
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
