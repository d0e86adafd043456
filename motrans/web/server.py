"""`motrans web`: load the models once, draw the examples, serve the page on this machine only (by default).

Gradio's analytics and version check are off before it is imported, its fonts are its bundled ones, and its
upload folder lies in this server's own temporary folder, removed when the server stops.
"""

from __future__ import annotations

import ipaddress
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..progress import note as say
from ..validate import finite, whole

LOOPBACK = ("localhost", "127.0.0.1", "::1")


@dataclass(frozen=True)
class WebOptions:
    checkpoints: tuple[str, ...] = ()
    models_dir: str | None = None
    host: str = "127.0.0.1"
    port: int = 7860
    device: str = "auto"
    max_upload_mb: float = 200.0
    max_seconds: float = 120.0
    examples: bool = True


def serve(options: WebOptions) -> None:
    """Blocks until the server stops (Ctrl-C, SIGTERM); its temporary folder goes with it."""
    _check(options)
    root = Path(tempfile.mkdtemp(prefix="motrans-web-"))
    os.environ["GRADIO_TEMP_DIR"] = str(root / "uploads")
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    page = None
    try:
        site = make_site(options, root)
        from .page import build

        page = build(site)
        page.queue(default_concurrency_limit=1)
        say(f"{len(site.models.labels)} model(s): {'; '.join(site.models.labels)}")
        say(f"uploads and results in {root} (each visitor's folder goes when they leave; all of it at the end)")
        say(f"serving on http://{_url_host(options.host)}:{options.port} (Ctrl-C stops)")
        page.launch(server_name=options.host, server_port=options.port, quiet=True, ssr_mode=False,
                    max_file_size=f"{options.max_upload_mb:g}mb", footer_links=["api", "settings"],
                    show_error=False, mcp_server=False, pwa=False, enable_monitoring=False)
    finally:
        if page is not None:
            page.close()
        shutil.rmtree(root, ignore_errors=True)


def make_site(options: WebOptions, root: Path):
    """Models (failures reported, left out), jobs folder, examples: everything the page needs, without Gradio."""
    from ..errors import InputError
    from .examples import write_examples
    from .jobs import Jobs
    from .models import load_models, model_files
    from .handlers import Site

    models = load_models(model_files(list(options.checkpoints), options.models_dir), options.device)
    for failure in models.failures:
        say(f"warning: left out of the model list: {failure}")
    if not models.labels:
        raise InputError("no model could be loaded; see the warnings above")
    jobs = Jobs(root / "jobs")
    jobs.sweep_every(300)
    examples = write_examples(root / "examples") if options.examples else []
    return Site(models, jobs, [root / "uploads", root / "examples"], examples, options.max_seconds)


def _check(options: WebOptions) -> None:
    import importlib.util

    from ..errors import MotransError

    if importlib.util.find_spec("gradio") is None:
        raise MotransError("motrans web needs Gradio: pip install 'motrans[web]'")
    whole("--port", options.port, 0, 65535)
    finite("--max-upload-mb", options.max_upload_mb, 0.001, 100_000)
    finite("--max-seconds", options.max_seconds, 0.1, 86_400)
    if not _is_loopback(options.host):
        say(f"warning: listening on {options.host}: anyone who can reach this machine on the network can use the "
            "page and its processor; the default --host 127.0.0.1 keeps it to this machine")


def _is_loopback(host: str) -> bool:
    if host in LOOPBACK:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
