"""The Gradio page: components and wiring only. Each event calls one function of `handlers`.

Uploads reach the handlers undecoded (`preprocess=False`): Gradio's Image component would otherwise open the file
itself and answer a text file named .png with a bare "Error". The handlers read them with the CLI's own checks.
"""

from __future__ import annotations

from pathlib import Path

import gradio as gr

from ..animate.normalize import MODES
from ..animate.pipeline import DTYPES
from ..data.image import FITS
from ..errors import MotransError
from . import handlers
from .handlers import Site

OPTION_NAMES = ("mode", "adapt_scale", "find_best_frame", "fit", "crop", "crop_scale", "object", "driving_crop",
                "driving_object", "paste_back", "side_by_side", "smooth", "fps", "audio", "max_side", "batch_size",
                "start", "end")


def build(site: Site) -> gr.Blocks:
    with gr.Blocks(title="motrans", analytics_enabled=False, delete_cache=(600, 3600)) as page:
        gr.Markdown("## motrans: animate a still image with a driving video\nUpload a source image and a driving "
                    "video (or record one), or pick an example; then press Animate.")
        with gr.Tab("Animate"):
            _animate_tab(site)
        with gr.Tab("What the model sees"):
            _explain_tab(site)
        page.unload(_leaver(site))
    return page


def _animate_tab(site: Site) -> None:
    with gr.Row():
        with gr.Column():
            source = gr.Image(label="Source image", type="filepath", sources=["upload", "webcam", "clipboard"],
                              elem_id="source", height=256)
            # A file, not a Video: the browser's video element refuses GIF (MGIF's format), MOV, AVI and frames.
            driving = gr.File(label="Driving video (mp4, mov, webm, mkv, avi, gif…)", elem_id="driving", height=120)
            with gr.Accordion("…or record the driving video with a webcam", open=False):
                webcam = gr.Video(label="Webcam", sources=["webcam"], elem_id="webcam", height=256,
                                  webcam_options=gr.WebcamOptions(mirror=False))  # mirroring would need ffmpeg
            if site.examples:
                gr.Examples([[str(s), str(d)] for s, d in site.examples], [source, driving],
                            label="Examples: puppets drawn by motrans synth")
        with gr.Column():
            model = gr.Dropdown(site.models.labels, value=site.models.labels[0], label="Model", elem_id="model")
            options = _options()
            with gr.Row():
                run = gr.Button("Animate", variant="primary", elem_id="run")
                cancel = gr.Button("Cancel", elem_id="cancel")
            status = gr.Textbox(label="Status", interactive=False, elem_id="status", lines=2)
            result = gr.Video(label="Result", elem_id="result", interactive=False, autoplay=True, buttons=["download"])
            download = gr.File(label="Download (mp4)", elem_id="download", interactive=False)
    source.upload(_checker(site, "source"), [source], [status], preprocess=False, queue=False)
    driving.upload(_checker(site, "driving"), [driving], [status], preprocess=False, queue=False)
    webcam.stop_recording(_checker(site, "driving"), [webcam], [status], preprocess=False, queue=False)
    job = run.click(_runner(site), [source, driving, webcam, model, *options], [result, download, status],
                    preprocess=False, concurrency_limit=1, concurrency_id="device", show_progress_on=[result])
    cancel.click(_canceller(site), None, [status], cancels=[job], queue=False)


def _explain_tab(site: Site) -> None:
    gr.Markdown("`motrans explain` on one image: each motion token's keypoint, its part's motion mask and, for "
                "MoTrans, its attention to the image in each layer (the paper's Fig. 3); then the background mask "
                "and occlusion. With a source, also the source moved by the image's motion.")
    with gr.Row():
        with gr.Column():
            image = gr.Image(label="Image (a driving frame)", type="filepath", sources=["upload", "webcam"],
                             elem_id="explain_image", height=256)
            source = gr.Image(label="Source (optional)", type="filepath", elem_id="explain_source", height=160)
            model = gr.Dropdown(site.models.labels, value=site.models.labels[0], label="Model")
            tokens = gr.Textbox(label="Tokens (MoTrans: 0..2K-1, keypoints then affines; blank: all)", value="0,1,2")
            layers = gr.Textbox(label="Layers, from 1 (blank: all)")
            heads = gr.Radio(["mean", "all"], value="mean", label="Attention heads")
            go = gr.Button("Explain", variant="primary", elem_id="explain_run")
            status = gr.Textbox(label="Status", interactive=False, elem_id="explain_status")
        with gr.Column(scale=2):
            picture = gr.Image(label="What the model sees", elem_id="explain_picture", interactive=False,
                               format="png", buttons=["download", "fullscreen"])
    go.click(_explainer(site), [image, source, model, tokens, layers, heads], [picture, status], preprocess=False,
             concurrency_limit=1, concurrency_id="device")


def _explainer(site: Site):
    def explain(image, source, model, tokens, layers, heads, request: gr.Request):
        folder = site.jobs.folder(request.session_hash)
        try:
            if image is None:
                raise MotransError("choose an image first")
            image_path = handlers.received(image, site.upload_roots, folder)
            source_path = None if source is None else handlers.received(source, site.upload_roots, folder,
                                                                          avoid=image_path.name)
            picture = handlers.explain_picture(site.models, model, image_path, source_path, tokens or "",
                                               layers or "", heads)
        except Exception as error:  # noqa: BLE001 - the page shows every failure as the CLI's one line
            return None, handlers.error_line(error, folder)
        return picture, f"motrans: explained {image_path.name}"

    return explain


def _options() -> list:
    """The form of every `motrans animate` option, in OPTION_NAMES's order, plus dtype and keypoints first."""
    mode = gr.Radio(list(MODES), value="relative", label="Mode", elem_id="mode")
    dtype = gr.Radio(list(DTYPES), value="float32", label="Precision (dtype)")
    keypoints = gr.Checkbox(label="Draw the model's keypoints on the result", elem_id="keypoints")
    side_by_side = gr.Checkbox(label="Side by side: source | driving | result", elem_id="side_by_side")
    with gr.Accordion("More options", open=False):
        adapt = gr.Radio(["auto", "on", "off"], value="auto", label="Adapt movement scale (auto: the method's)")
        best = gr.Checkbox(label="Start from the driving frame closest to the source's pose (best frame)")
        fit = gr.Radio(list(FITS), value="crop", label="Fit to the model's size")
        crop = gr.Dropdown(["auto", "face", "body", "none"], value="auto", allow_custom_value=True,
                           label="Crop the source (auto, face, body, none, or X,Y,W,H)")
        crop_scale = gr.Number(label="Crop scale (blank: the domain's)", value=None)
        obj = gr.Number(label="Which face or person of the source, 1 = leftmost (blank: the largest)", value=None,
                        precision=0)
        driving_crop = gr.Textbox(label="Fixed driving box X,Y,W,H (blank: follow the face)")
        driving_obj = gr.Number(label="Which face or person of the driving video to follow (blank: the largest)",
                                value=None, precision=0)
        paste = gr.Radio(["auto", "on", "off"], value="auto", label="Paste back into the full source")
        smooth = gr.Slider(0, 10, value=0, step=0.1, label="Smooth the driving motion (0: off, exact)")
        fps = gr.Number(label="Output frame rate (blank: the driving video's)", value=None)
        audio = gr.Checkbox(value=True, label="Keep the driving video's audio")
        max_side = gr.Number(value=4096, label="Largest side of a pasted-back result", precision=0)
        batch = gr.Number(value=4, label="Driving frames per forward pass", precision=0)
        start = gr.Number(label="Start at this second of the driving video (blank: its start)", value=None)
        end = gr.Number(label="End at this second of the driving video (blank: its end)", value=None)
    return [dtype, keypoints, mode, adapt, best, fit, crop, crop_scale, obj, driving_crop, driving_obj, paste,
            side_by_side, smooth, fps, audio, max_side, batch, start, end]


def _checker(site: Site, role: str):
    """On upload: the CLI's checks at once, so a bad file is named before anyone presses Animate."""
    def check(upload, request: gr.Request) -> str:
        if upload is None:
            return ""
        folder = site.jobs.folder(request.session_hash)
        try:
            path = handlers.received(upload, site.upload_roots, folder)
            if role == "source":
                handlers.check_source(path)
            else:
                handlers.check_driving(path, site.max_seconds)
        except Exception as error:  # noqa: BLE001 - the page shows every failure as the CLI's one line
            return handlers.error_line(error, folder)
        return f"motrans: {path.name} is ready"

    return check


def _runner(site: Site):
    # Gradio injects `request` and `progress` by position, so the form's values are spelled out (OPTION_NAMES).
    def run(source, driving, webcam, model, dtype, keypoints, mode, adapt_scale, find_best_frame, fit, crop,
            crop_scale, object, driving_crop, driving_object, paste_back, side_by_side, smooth, fps, audio, max_side,
            batch_size, start, end, request: gr.Request, progress=gr.Progress()):
        values = (mode, adapt_scale, find_best_frame, fit, crop, crop_scale, object, driving_crop, driving_object,
                  paste_back, side_by_side, smooth, fps, audio, max_side, batch_size, start, end)
        folder = site.jobs.folder(request.session_hash)
        cancel = site.jobs.cancel_switch(request.session_hash)
        cancel.clear()
        try:
            job = _job(site, folder, source, driving or webcam, model, dtype, keypoints, values)
            report = lambda done, total, line: progress((done, total), desc=line, unit="frames")  # noqa: E731
            output = handlers.run_job(job, site.models, folder, cancel, report, site.max_seconds)
        except Exception as error:  # noqa: BLE001 - the page shows every failure as the CLI's one line
            return None, None, handlers.error_line(error, folder)
        return str(output), str(output), f"motrans: wrote {output.name}"

    return run


def _job(site: Site, folder: Path, source, driving, model, dtype, keypoints, values) -> handlers.Job:
    if source is None or driving is None:
        raise MotransError("choose a source image and a driving video first")
    source_path = handlers.received(source, site.upload_roots, folder)
    driving_path = handlers.received(driving, site.upload_roots, folder, avoid=source_path.name)
    options = handlers.form_options(**dict(zip(OPTION_NAMES, values)))
    return handlers.Job(source_path, driving_path, model, dtype, bool(keypoints), options)


def _canceller(site: Site):
    def cancel(request: gr.Request) -> str:
        site.jobs.cancel_switch(request.session_hash).set()
        return "motrans: cancelled"

    return cancel


def _leaver(site: Site):
    def leave(request: gr.Request) -> None:
        site.jobs.leave(request.session_hash)

    return leave
