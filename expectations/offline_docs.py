"""Make the GX Data Docs site work offline: the scripts, styles and fonts it loads come from itself.

GX 1.x's page templates (``great_expectations/render/view/templates``:
``page.j2``, ``index_page.j2``, ``js_script_imports.j2``) load jQuery,
Bootstrap, bootstrap-table, bootstrap-datepicker, Popper, Font Awesome and
Vega from five CDNs, so with no network the index is an empty page; GX has no
setting to change them (its loader puts its own templates before custom
views). The same files, pinned by ``expectations/data_docs_assets/package-lock.json``
to the versions the templates name, are installed by ``scripts/setup.sh``
(``npm ci``) into ``$YTEMPIRE_LOCAL_DIR/data_docs_assets``. After each build
:func:`localize` copies them into the site's ``static/vendor/`` and points
every page at them by relative links, so the site opens from ``file://`` or
any folder it is moved to. The CDN tags' SRI attributes go with the CDN URLs:
npm checks the local copies against the lockfile's integrity hashes.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
from pathlib import Path

from ytempire.errors import YTEmpireError
from ytempire.settings import Settings, get_settings

log = logging.getLogger(__name__)

VENDOR = Path("static") / "vendor"
FONT_AWESOME = "@fortawesome/fontawesome-free"
# Each address GX 1.x's templates load -> the same file in the pinned npm packages.
CDN_FILES: dict[str, str] = {
    "https://cdn.jsdelivr.net/npm/vega@5": "vega/build/vega.min.js",
    "https://cdn.jsdelivr.net/npm/vega-lite@5": "vega-lite/build/vega-lite.min.js",
    "https://cdn.jsdelivr.net/npm/vega-embed@6": "vega-embed/build/vega-embed.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css": (
        f"{FONT_AWESOME}/css/all.min.css"
    ),
    "https://code.jquery.com/jquery-3.7.1.min.js": "jquery/dist/jquery.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js": (
        "popper.js/dist/umd/popper.min.js"
    ),
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js": (
        "bootstrap/dist/js/bootstrap.min.js"
    ),
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css": (
        "bootstrap/dist/css/bootstrap.min.css"
    ),
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js": (
        "bootstrap-table/dist/bootstrap-table.min.js"
    ),
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css": (
        "bootstrap-table/dist/bootstrap-table.min.css"
    ),
    "https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/"
    "bootstrap-table-filter-control.min.js": (
        "bootstrap-table/dist/extensions/filter-control/bootstrap-table-filter-control.min.js"
    ),
    # the templates name 1.19.0 for this stylesheet, 1.19.1 for the rest: one package serves both
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/"
    "bootstrap-table-filter-control.min.css": (
        "bootstrap-table/dist/extensions/filter-control/bootstrap-table-filter-control.min.css"
    ),
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/"
    "bootstrap-table-filter-control.css": (
        "bootstrap-table/dist/extensions/filter-control/bootstrap-table-filter-control.css"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/"
    "bootstrap-datepicker.min.js": "bootstrap-datepicker/dist/js/bootstrap-datepicker.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/"
    "bootstrap-datepicker.min.css": "bootstrap-datepicker/dist/css/bootstrap-datepicker.min.css",
    "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/"
    "bootstrap-prefers-dark.css": "@forevolve/bootstrap-dark/dist/css/bootstrap-prefers-dark.css",
}
# Folders a copied file reads beside itself (Font Awesome's CSS: ../webfonts/*.woff2).
CDN_FOLDERS = (f"{FONT_AWESOME}/webfonts",)
# GX's navbar and default stylesheet draw its logos from S3 (``top_navbar.j2``: with a
# ``?d=<timestamp>`` query); the site's own copies serve them (GX copies
# render/view/static/images into static/images), its long logo where it has no such file.
_REMOTE_IMAGE = re.compile(
    r"https://great-expectations-web-assets\.s3\.us-east-2\.amazonaws\.com/"
    r"(?P<name>[\w.-]+)(?:\?[^\"'()\s]*)?"
)
IMAGES = Path("static") / "images"
FALLBACK_IMAGE = "logo-long.png"
# A link into the site's static/ (GX's favicon link on a validation page climbs too few
# folders): made relative to each page's own depth.
_STATIC_LINK = re.compile(r'(?P<attr>(?:href|src)=")(?:\./|(?:\.\./)+)static/')
_SRI = re.compile(r'\s+integrity="sha\d+-[A-Za-z0-9+/=]+"(\s+crossorigin="anonymous")?')


class AssetsMissing(YTEmpireError):
    """The pinned Data Docs assets are not installed (``scripts/setup.sh`` runs ``npm ci``)."""


def assets_dir(settings: Settings | None = None) -> Path:
    """The npm prefix of the pinned assets: ``$YTEMPIRE_LOCAL_DIR/data_docs_assets``."""
    return Path((settings or get_settings()).local_dir) / "data_docs_assets"


def localize(site: Path, assets: Path) -> int:
    """Serve every CDN file the site's pages load from ``site/static/vendor``; return pages changed.

    Idempotent. Raises :class:`AssetsMissing` naming the first missing file
    and the command that installs them; the pages are left as GX wrote them.
    """
    modules = assets / "node_modules"
    for relative in [*CDN_FILES.values(), *CDN_FOLDERS]:
        if not (modules / relative).exists():
            raise AssetsMissing(
                f"Data Docs asset {relative} is not installed in {modules}. Next: run "
                "`scripts/setup.sh` (it runs `npm ci --prefix $YTEMPIRE_LOCAL_DIR/"
                "data_docs_assets` from expectations/data_docs_assets/)."
            )
    vendor = site / VENDOR
    for relative in CDN_FILES.values():
        (vendor / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(modules / relative, vendor / relative)
    for relative in CDN_FOLDERS:
        shutil.copytree(modules / relative, vendor / relative, dirs_exist_ok=True)
    changed = 0
    for page in site.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        local = _localized(html, page, site)
        if local != html:
            page.write_text(local, encoding="utf-8")
            changed += 1
    return changed


def localize_or_warn(site: Path, settings: Settings | None = None) -> bool:
    """:func:`localize`, or a warning when the assets are not installed (validation goes on)."""
    try:
        pages = localize(site, assets_dir(settings))
    except AssetsMissing as exc:
        log.warning("Data Docs left loading from CDNs: %s", exc)
        return False
    log.debug("Data Docs: %d page(s) now load their assets from %s", pages, site / VENDOR)
    return True


def _localized(html: str, page: Path, site: Path) -> str:
    """``page``'s HTML with every CDN file, S3 image and static link pointing into ``site``."""
    local = _SRI.sub("", html)
    for url, relative in CDN_FILES.items():
        local = local.replace(f'"{url}"', f'"{_link(page, site / VENDOR / relative)}"')
    static = _link(page, site / "static")
    local = _STATIC_LINK.sub(lambda m: f"{m['attr']}{static}/", local)
    return _REMOTE_IMAGE.sub(lambda m: _link(page, _image(site, m["name"])), local)


def _image(site: Path, name: str) -> Path:
    own = site / IMAGES / name
    return own if own.is_file() else site / IMAGES / FALLBACK_IMAGE


def _link(page: Path, target: Path) -> str:
    return Path(os.path.relpath(target, page.parent)).as_posix()
