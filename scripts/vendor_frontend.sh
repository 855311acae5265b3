#!/usr/bin/env bash
# Regenerate everything under static/vendor/ from pinned upstream releases.
#
#   bash scripts/vendor_frontend.sh
#
# Needs: node + npm (with access to the npm registry) and python3 with pip
# (for the plotly wheel, unless the project venv already has the pinned
# plotly). All npm work happens in a throw-away temp dir, which is removed on
# exit; nothing (no node_modules, no lockfile) is written into the repo apart
# from static/vendor/.
#
# To upgrade a library: change the pin below, re-run, check the output of the
# verification step, look at a page, commit static/vendor/ and this script.
set -euo pipefail

# ---------------------------------------------------------------- pins
GOVUK_FRONTEND_VERSION="6.6.0"   # npm: govuk-frontend
HTMX_VERSION="2.0.11"            # npm: htmx.org
AXE_CORE_VERSION="4.14.1"        # npm: axe-core
SASS_VERSION="1.108.2"           # npm: sass (build tool only, not vendored)
PLOTLY_PY_VERSION="7.1.0"        # PyPI: plotly (we ship its bundled plotly.min.js)
ACCESSIBLE_AUTOCOMPLETE_VERSION="3.0.1"  # npm: accessible-autocomplete

# ---------------------------------------------------------------- paths
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENDOR="$REPO_ROOT/static/vendor"
VENV_PYTHON="${VENV_PYTHON:-$REPO_ROOT/.venv/bin/python}"
# URL prefix under which static/vendor/ is served (STATIC_URL + "vendor/").
STATIC_VENDOR_URL="/static/vendor"

BUILD="$(mktemp -d "${TMPDIR:-/tmp}/vendor-build.XXXXXX")"
cleanup() { rm -rf "$BUILD"; }
trap cleanup EXIT

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'ERROR: %s\n' "$*" >&2; exit 1; }

command -v npm >/dev/null || die "npm not found"
command -v node >/dev/null || die "node not found"

OUT="$BUILD/out"   # staged copy of static/vendor/
mkdir -p "$OUT/govuk-frontend" "$OUT/htmx" "$OUT/axe" "$OUT/plotly" "$OUT/accessible-autocomplete"

# ---------------------------------------------------------------- npm install
log "Installing npm packages in $BUILD"
cd "$BUILD"
cat > package.json <<EOF
{
  "name": "localspend-vendor-build",
  "private": true,
  "dependencies": {
    "govuk-frontend": "$GOVUK_FRONTEND_VERSION",
    "htmx.org": "$HTMX_VERSION",
    "axe-core": "$AXE_CORE_VERSION",
    "sass": "$SASS_VERSION",
    "accessible-autocomplete": "$ACCESSIBLE_AUTOCOMPLETE_VERSION"
  }
}
EOF
# --ignore-scripts: nothing we need has a build step (sass's optional
# @parcel/watcher install script is only used for --watch).
npm install --no-audit --no-fund --ignore-scripts --loglevel=error >&2

NM="$BUILD/node_modules"
check_version() { # package expected
  local got
  got="$(node -p "require('$NM/$1/package.json').version")"
  [[ "$got" == "$2" ]] || die "$1: expected $2, got $got"
}
check_version govuk-frontend "$GOVUK_FRONTEND_VERSION"
check_version htmx.org "$HTMX_VERSION"
check_version axe-core "$AXE_CORE_VERSION"
check_version sass "$SASS_VERSION"
check_version accessible-autocomplete "$ACCESSIBLE_AUTOCOMPLETE_VERSION"

# ---------------------------------------------------------------- GOV.UK Frontend
log "Compiling GOV.UK Frontend $GOVUK_FRONTEND_VERSION (Arial, no GDS Transport)"
GF_DIST="$NM/govuk-frontend/dist/govuk"

# The only image the stylesheet references is govuk-crest.svg (the Royal Arms
# on the footer's "Crown copyright" link, .govuk-footer__copyright-logo).
# LocalSpend is not a GOV.UK service, so we do not ship the crest and do not
# use that class; emit `none` instead of a dangling url(). Any other image a
# future version starts to reference fails the build so that someone decides
# whether to ship it.
cat > "$BUILD/_url-handlers.scss" <<'EOF'
@function image-url($filename) {
  @if $filename == "govuk-crest.svg" {
    @return none;
  }
  @error "GOV.UK Frontend now references image '#{$filename}': decide whether to vendor it (see scripts/vendor_frontend.sh)";
}
EOF
cat > "$BUILD/localspend-govuk.scss" <<EOF
// LocalSpend build of GOV.UK Frontend $GOVUK_FRONTEND_VERSION.
// Arial (no GDS Transport, no @font-face), assets under $STATIC_VENDOR_URL/govuk-frontend/assets/.
@use "sass:meta";
@use "url-handlers";
@use "pkg:govuk-frontend" as * with (
  \$govuk-font-family: (arial, sans-serif),
  \$govuk-include-default-font-face: false,
  \$govuk-assets-path: "$STATIC_VENDOR_URL/govuk-frontend/assets/",
  \$govuk-image-url-function: meta.get-function("image-url", \$module: "url-handlers")
);
EOF
"$NM/.bin/sass" --pkg-importer=node --load-path="$BUILD" --style=compressed --no-source-map \
  "$BUILD/localspend-govuk.scss" "$OUT/govuk-frontend/govuk-frontend.min.css"

# ES module bundle (exports initAll, createAll, the component classes, ...).
# Its source map is 200+ kB so we do not ship it, and we drop the
# sourceMappingURL comment: Django's ManifestStaticFilesStorage (used via
# WhiteNoise) fails collectstatic when a referenced source map is missing.
sed -e '/^\/\/# sourceMappingURL=/d' -e 's#//\# sourceMappingURL=[^ ]*$##' \
  "$GF_DIST/govuk-frontend.min.js" > "$OUT/govuk-frontend/govuk-frontend.min.js"

# The npm package does not include the licence file, so carry its text here
# (https://github.com/alphagov/govuk-frontend/blob/main/LICENSE.txt).
cat > "$OUT/govuk-frontend/LICENSE" <<'EOF'
The MIT License (MIT)

Copyright (C) 2017 Crown Copyright (Government Digital Service)

Permission is hereby granted, free of charge, to any person obtaining a copy of
this software and associated documentation files (the "Software"), to deal in
the Software without restriction, including without limitation the rights to
use, copy, modify, merge, publish, distribute, sublicense, and/or sell copies
of the Software, and to permit persons to whom the Software is furnished to do
so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
EOF

# Copy only the assets the compiled CSS references (never fonts, favicons,
# crest, manifest.json or app icons).
grep -o 'url([^)]*)' "$OUT/govuk-frontend/govuk-frontend.min.css" \
  | sed -e 's/^url(//' -e 's/)$//' -e 's/^["'\'']//' -e 's/["'\'']$//' \
  | sort -u > "$BUILD/css-urls.txt" || true
while IFS= read -r url; do
  [[ -z "$url" || "$url" == data:* ]] && continue
  [[ "$url" == "$STATIC_VENDOR_URL/govuk-frontend/assets/"* ]] \
    || die "unexpected url() in CSS: $url"
  rel="${url#"$STATIC_VENDOR_URL/govuk-frontend/assets/"}"
  case "$rel" in
    fonts/*|images/govuk-crest*|images/favicon*|images/govuk-icon*|images/govuk-opengraph*)
      die "CSS references a GOV.UK-branded asset we must not ship: $rel" ;;
  esac
  [[ -f "$GF_DIST/assets/$rel" ]] || die "CSS references missing asset: $rel"
  mkdir -p "$OUT/govuk-frontend/assets/$(dirname "$rel")"
  cp "$GF_DIST/assets/$rel" "$OUT/govuk-frontend/assets/$rel"
done < "$BUILD/css-urls.txt"

# ---------------------------------------------------------------- htmx
log "htmx $HTMX_VERSION"
cp "$NM/htmx.org/dist/htmx.min.js" "$OUT/htmx/htmx.min.js"
cp "$NM/htmx.org/LICENSE" "$OUT/htmx/LICENSE"
sed -i -e '/^\/\/# sourceMappingURL=/d' "$OUT/htmx/htmx.min.js"

# ---------------------------------------------------------------- axe-core
log "axe-core $AXE_CORE_VERSION"
cp "$NM/axe-core/axe.min.js" "$OUT/axe/axe.min.js"
cp "$NM/axe-core/LICENSE" "$OUT/axe/LICENSE"
cp "$NM/axe-core/LICENSE-3RD-PARTY.txt" "$OUT/axe/LICENSE-3RD-PARTY.txt"

# ---------------------------------------------------------------- accessible-autocomplete
# GOV.UK's autocomplete: turns a long <select> (a contract's supplier) into a
# text box that lists the options matching what is typed; without JavaScript
# the <select> stays as it is.
log "accessible-autocomplete $ACCESSIBLE_AUTOCOMPLETE_VERSION"
AA_DIST="$NM/accessible-autocomplete/dist"
cp "$AA_DIST/accessible-autocomplete.min.js" "$OUT/accessible-autocomplete/accessible-autocomplete.min.js"
cp "$AA_DIST/accessible-autocomplete.min.css" "$OUT/accessible-autocomplete/accessible-autocomplete.min.css"
cp "$NM/accessible-autocomplete/LICENSE.txt" "$OUT/accessible-autocomplete/LICENSE"
sed -i -e 's#//\# sourceMappingURL=[^ ]*$##' -e 's#/\*\# sourceMappingURL=[^ ]*\*/##' \
  "$OUT/accessible-autocomplete/accessible-autocomplete.min.js" \
  "$OUT/accessible-autocomplete/accessible-autocomplete.min.css"

# ---------------------------------------------------------------- plotly.js
# Ship exactly the plotly.min.js bundled in the Python plotly package, so the
# JS matches what plotly.py generates figures for.
log "plotly.js from plotly (Python) $PLOTLY_PY_VERSION"
PLOTLY_SRC=""
if [[ -x "$VENV_PYTHON" ]]; then
  venv_plotly="$("$VENV_PYTHON" -c 'import plotly; print(plotly.__version__)' 2>/dev/null || true)"
  if [[ "$venv_plotly" == "$PLOTLY_PY_VERSION" ]]; then
    PLOTLY_SRC="$("$VENV_PYTHON" -c 'import os, plotly; print(os.path.join(os.path.dirname(plotly.__file__), "package_data", "plotly.min.js"))')"
    log "  using $PLOTLY_SRC (project venv)"
  else
    log "  project venv has plotly '${venv_plotly:-none}', downloading the pinned wheel instead"
  fi
fi
if [[ -z "$PLOTLY_SRC" ]]; then
  python3 -m pip download --quiet --no-deps --only-binary=:all: \
    "plotly==$PLOTLY_PY_VERSION" -d "$BUILD/wheels" >&2
  wheel="$(ls "$BUILD"/wheels/plotly-"$PLOTLY_PY_VERSION"-*.whl)"
  python3 - "$wheel" "$BUILD/plotly" <<'EOF'
import sys, zipfile
zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2], members=[
    "plotly/package_data/plotly.min.js",
])
EOF
  PLOTLY_SRC="$BUILD/plotly/plotly/package_data/plotly.min.js"
fi
cp "$PLOTLY_SRC" "$OUT/plotly/plotly.min.js"
PLOTLY_JS_VERSION="$(head -c 400 "$OUT/plotly/plotly.min.js" | sed -n 's/.*plotly\.js v\([0-9][0-9.]*\).*/\1/p' | head -n1)"
[[ -n "$PLOTLY_JS_VERSION" ]] || die "could not read plotly.js version from banner"
# plotly.js and plotly.py are both MIT; this is the plotly.py wheel's text.
cat > "$OUT/plotly/LICENSE" <<'EOF'
MIT License

Copyright (c) 2016-2026 Plotly Technologies Inc.

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.

(plotly.min.js also embeds third-party code; each bundled dependency's
licence notice is kept in the comments inside plotly.min.js.)
EOF

# ---------------------------------------------------------------- verify
log "Verifying"
CSS="$OUT/govuk-frontend/govuk-frontend.min.css"
if grep -qiE 'GDS Transport|@font-face' "$CSS"; then
  die "compiled CSS still contains GDS Transport / @font-face"
fi
grep -q 'font-family:arial,sans-serif' "$CSS" || die "compiled CSS does not use Arial"
if find "$OUT" -iname '*.woff*' -o -iname 'govuk-crest*' -o -iname 'favicon*' \
     -o -iname 'govuk-icon*' -o -iname 'manifest.json' | grep -q .; then
  die "GOV.UK-branded asset found in output"
fi
while IFS= read -r url; do
  [[ -z "$url" || "$url" == data:* ]] && continue
  [[ -f "$OUT/${url#"$STATIC_VENDOR_URL/"}" ]] || die "url($url) has no file"
done < "$BUILD/css-urls.txt"
grep -q 'initAll' "$OUT/govuk-frontend/govuk-frontend.min.js" || die "initAll not exported"
grep -q "version=\"$GOVUK_FRONTEND_VERSION\"" "$OUT/govuk-frontend/govuk-frontend.min.js" \
  || die "govuk-frontend.min.js version mismatch"
if grep -l 'sourceMappingURL' "$OUT"/*/*.js "$OUT"/*/*.css; then
  die "a vendored file references a source map we do not ship"
fi

# ---------------------------------------------------------------- README
sha() { sha256sum "$1" | cut -d' ' -f1; }
cat > "$OUT/README.md" <<EOF
# Vendored front-end libraries

Generated by \`scripts/vendor_frontend.sh\` — do not edit these files by hand.
LocalSpend has no network access at run time, so every front-end file is
committed here and served by Django/WhiteNoise from \`/static/vendor/\`.

Regenerate (needs node/npm and pip; works in a temp dir and cleans up):

    bash scripts/vendor_frontend.sh

To upgrade, change the pinned version at the top of the script and re-run.

| Library | Version | Licence | Source | Files |
|---|---|---|---|---|
| GOV.UK Frontend | $GOVUK_FRONTEND_VERSION | MIT (\`govuk-frontend/LICENSE\`) | npm \`govuk-frontend@$GOVUK_FRONTEND_VERSION\`; CSS compiled from its Sass with npm \`sass@$SASS_VERSION\` | \`govuk-frontend/govuk-frontend.min.css\`, \`govuk-frontend/govuk-frontend.min.js\` |
| htmx | $HTMX_VERSION | 0BSD (\`htmx/LICENSE\`) | npm \`htmx.org@$HTMX_VERSION\` \`dist/htmx.min.js\` | \`htmx/htmx.min.js\` |
| axe-core | $AXE_CORE_VERSION | MPL-2.0 (\`axe/LICENSE\`, third-party notices in \`axe/LICENSE-3RD-PARTY.txt\`) | npm \`axe-core@$AXE_CORE_VERSION\` \`axe.min.js\` | \`axe/axe.min.js\` |
| accessible-autocomplete | $ACCESSIBLE_AUTOCOMPLETE_VERSION | MIT (\`accessible-autocomplete/LICENSE\`) | npm \`accessible-autocomplete@$ACCESSIBLE_AUTOCOMPLETE_VERSION\` \`dist/\` | \`accessible-autocomplete/accessible-autocomplete.min.js\`, \`accessible-autocomplete/accessible-autocomplete.min.css\` |
| plotly.js | $PLOTLY_JS_VERSION | MIT (\`plotly/LICENSE\`) | \`plotly/package_data/plotly.min.js\` from the Python \`plotly==$PLOTLY_PY_VERSION\` package, so the JS matches plotly.py | \`plotly/plotly.min.js\` |

## GOV.UK Frontend build notes

LocalSpend uses GOV.UK Frontend for its accessible components but is **not a
GOV.UK service**: no crown, no GOV.UK logotype, no GDS Transport font, no
crown favicon. The stylesheet is compiled from the package's Sass with:

\`\`\`scss
@use "pkg:govuk-frontend" as * with (
  \$govuk-font-family: (arial, sans-serif),
  \$govuk-include-default-font-face: false,
  \$govuk-assets-path: "$STATIC_VENDOR_URL/govuk-frontend/assets/",
  \$govuk-image-url-function: meta.get-function("image-url", \$module: "url-handlers")
);
\`\`\`

- No \`@font-face\` and no font files; every \`font-family\` is \`arial, sans-serif\`
  (\`sans-serif\` for print).
- The only image GOV.UK Frontend's CSS refers to is the Royal Arms crest used
  by \`.govuk-footer__copyright-logo\`. The image-url handler replaces it with
  \`none\`, so the CSS contains no \`url()\` at all and no assets are shipped
  (hence no \`govuk-frontend/assets/\` directory). Do not use the
  \`govuk-footer__copyright-logo\` or \`govuk-footer__crown\` classes, the
  \`govuk-header\` (GOV.UK logotype) component, or GOV.UK favicons; use the
  Generic header component (\`govuk-generic-header\`) instead.
- \`govuk-frontend.min.js\` is the package's ES module bundle
  (\`dist/govuk/govuk-frontend.min.js\`; exports \`initAll\`, \`createAll\`,
  component classes). Load it with \`type="module"\`. Its
  \`sourceMappingURL\` comment is removed because the map is not shipped
  (ManifestStaticFilesStorage would fail on the missing file).

## Checksums (sha256)

| File | sha256 |
|---|---|
EOF
(cd "$OUT" && find . -type f ! -name README.md | sort | while read -r f; do
  printf '| `%s` | `%s` |\n' "${f#./}" "$(sha "$f")"
done) >> "$OUT/README.md"

# ---------------------------------------------------------------- install
log "Installing into $VENDOR"
mkdir -p "$VENDOR"
for d in govuk-frontend htmx axe plotly accessible-autocomplete; do
  rm -rf "${VENDOR:?}/$d"
  cp -R "$OUT/$d" "$VENDOR/$d"
done
cp "$OUT/README.md" "$VENDOR/README.md"

log "Done:"
(cd "$VENDOR" && find . -type f | sort | while read -r f; do
  printf '  %-45s %10s bytes\n' "${f#./}" "$(wc -c < "$f")"
done) >&2
