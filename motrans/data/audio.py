"""The driving video's sound in an output video: copied packet by packet where the container takes its codec,
re-encoded (AAC; Opus in WebM) where it does not, and cut to the span of the driving video that was animated.

Copied packets keep their timing to the packet (about 20 ms of AAC), which is what FFmpeg's `-c copy` gives too.
"""

from __future__ import annotations

from pathlib import Path

# The codecs each container muxes as they are; None: any. Anything else is re-encoded to REENCODE[kind].
COPIES = {"mp4": {"aac", "mp3", "alac", "ac3", "eac3", "opus", "flac"},
          "mov": {"aac", "mp3", "alac", "ac3", "eac3", "pcm_s16le", "pcm_s24le", "pcm_f32le"},
          "mkv": None, "webm": {"opus", "vorbis"}}
REENCODE = {"mp4": "aac", "mov": "aac", "mkv": "aac", "webm": "libopus"}


def has_audio(path: Path) -> bool:
    """Whether `path` is a file with an audio stream (a frames folder or a still image has none)."""
    import av

    if path.is_dir():
        return False
    with av.open(str(path)) as container:
        return bool(container.streams.audio)


def add_audio(video: Path, source: Path, start: float, duration: float, tag: str = "") -> Path:
    """`video` remuxed with the first audio stream of `source` from `start` to `start + duration` seconds, moved to
    time 0; returns the new file (beside `video`, which is removed)."""
    import av

    kind = video.suffix[1:]
    out_path = video.with_name(f"with_audio{video.suffix}")
    with av.open(str(source)) as audio_in, av.open(str(video)) as video_in, av.open(str(out_path), "w") as out:
        if tag:
            out.metadata["comment"] = tag
        v_in, a_in = video_in.streams.video[0], audio_in.streams.audio[0]
        v_out = out.add_stream_from_template(v_in)
        allowed = COPIES[kind]
        if allowed is None or a_in.codec_context.name in allowed:
            _copy(audio_in, a_in, out, out.add_stream_from_template(a_in), start, duration)
        else:
            _reencode(audio_in, a_in, out, REENCODE[kind], start, duration)
        for packet in video_in.demux(v_in):
            if packet.size:  # not the demuxer's empty flush packet (Matroska leaves most dts unset: kept)
                packet.stream = v_out
                out.mux(packet)
    video.unlink()
    return out_path


def _seek(container, stream, start: float) -> None:
    if start > 0:
        container.seek(int(start / stream.time_base), stream=stream, backward=True)


def _copy(container, stream, out, out_stream, start: float, duration: float) -> None:
    """Packets whose time lies in [start, start + duration), shifted to begin at 0."""
    _seek(container, stream, start)
    offset = round(start / stream.time_base)
    for packet in container.demux(stream):
        if packet.dts is None or packet.pts is None:
            continue
        time = packet.pts * stream.time_base
        if time < start:
            continue
        if time >= start + duration:
            break
        packet.pts, packet.dts = packet.pts - offset, packet.dts - offset
        packet.stream = out_stream
        out.mux(packet)


def _reencode(container, stream, out, codec: str, start: float, duration: float) -> None:
    """Decoded samples in [start, start + duration), resampled to what `codec` takes, encoded."""
    import av

    rate = 48000 if codec == "libopus" else stream.codec_context.sample_rate  # Opus runs at 48 kHz
    layout = "stereo" if stream.codec_context.channels > 1 else "mono"
    out_stream = out.add_stream(codec, rate=rate, layout=layout)
    sample_format = out_stream.codec_context.codec.audio_formats[0].name
    resampler = av.AudioResampler(format=sample_format, layout=layout, rate=rate)
    _seek(container, stream, start)
    for frame in container.decode(stream):
        if frame.time is None or frame.time < start:
            continue
        if frame.time >= start + duration:
            break
        frame.pts = None  # the encoder numbers the samples from 0
        for piece in resampler.resample(frame):
            out.mux(out_stream.encode(piece))
    for piece in resampler.resample(None):
        out.mux(out_stream.encode(piece))
    out.mux(out_stream.encode(None))
