#!/bin/sh
# book/checklinks.sh HTML_DIR: every href and src of every page of the website points at
# a file of the website, and every #anchor at an id of the page it names. External
# links (http:, https:, mailto:, ...) are not followed. Prints one line per broken link
# ("book: PAGE: broken link URL (why)") and exits 1 if there is any.
set -u
[ $# -eq 1 ] || { echo "usage: book/checklinks.sh HTML_DIR" >&2; exit 2; }
cd "$1" || exit 2
list=$(mktemp) || exit 2
trap 'rm -f "$list"' EXIT
find . -type f ! -name '.*' | sed 's|^\./||' | sort > "$list"
find . -name '*.html' ! -path './.*' | sed 's|^\./||' | sort | {
  files=""
  while read -r f; do files="$files $f"; done
  # shellcheck disable=SC2086
  awk -v html="$1" '
    function hexval(c) { return index("0123456789abcdef", tolower(c)) - 1 }
    function decode(s,   out, i, c) {
      gsub(/&amp;/, "\\&", s); gsub(/&quot;/, "\"", s); gsub(/&#39;/, "\047", s)
      out = ""
      for (i = 1; i <= length(s); i++) {
        c = substr(s, i, 1)
        if (c == "%" && i + 2 <= length(s) && hexval(substr(s, i + 1, 1)) >= 0 && hexval(substr(s, i + 2, 1)) >= 0) {
          out = out sprintf("%c", hexval(substr(s, i + 1, 1)) * 16 + hexval(substr(s, i + 2, 1)))
          i += 2
        } else out = out c
      }
      return out
    }
    function normalize(p,   n, parts, out, k, i) {
      n = split(p, parts, "/"); k = 0
      for (i = 1; i <= n; i++) {
        if (parts[i] == "" || parts[i] == ".") continue
        if (parts[i] == "..") { if (k == 0) return "/outside"; k-- } else out[++k] = parts[i]
      }
      p = ""
      for (i = 1; i <= k; i++) p = p (i > 1 ? "/" : "") out[i]
      return p
    }
    FNR == NR { exists[$0] = 1; next }
    {
      line = $0
      while (match(line, /(href|src|id)="[^"]*"/)) {
        attr = substr(line, RSTART, RLENGTH); line = substr(line, RSTART + RLENGTH)
        eq = index(attr, "=")
        name = substr(attr, 1, eq - 1); val = substr(attr, eq + 2, length(attr) - eq - 2)
        if (name == "id") { ids[FILENAME SUBSEP decode(val)] = 1; continue }
        nl++; lfile[nl] = FILENAME; lurl[nl] = val
      }
    }
    END {
      bad = 0
      for (i = 1; i <= nl; i++) {
        url = lurl[i]; f = lfile[i]
        if (url ~ /^[A-Za-z][A-Za-z0-9+.-]*:/ || url ~ /^\/\//) continue
        h = index(url, "#")
        if (h > 0) { path = substr(url, 1, h - 1); frag = substr(url, h + 1) } else { path = url; frag = "" }
        dir = f; sub(/[^\/]*$/, "", dir)
        target = (path == "") ? f : normalize(dir decode(path))
        if (!(target in exists)) {
          printf "book: %s/%s: broken link %s (no file %s/%s)\n", html, f, url, html, target; bad++; continue
        }
        if (frag != "" && target ~ /\.html$/ && !((target SUBSEP decode(frag)) in ids)) {
          printf "book: %s/%s: broken link %s (no id \"%s\" in %s)\n", html, f, url, decode(frag), target; bad++
        }
      }
      if (bad > 0) { printf "book: %d broken link(s) in %s\n", bad, html; exit 1 }
    }
  ' "$list" $files
}
