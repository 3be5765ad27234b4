#!/bin/sh
# book/html-selftest.sh: `make html`'s own checks catch what they claim to. In a small
# planted repository (a temporary directory) it runs book/book.lua through pandoc the way
# book/html.mk does and requires: citations that match a bibliography entry become links
# (first author + year; co-authors; a letter for two works of one year); an author-year
# mention with no entry, with the wrong co-authors or ambiguous, a broken link, a missing
# quoted region and math pandoc cannot render each fail the run with a message naming
# it; README links keep their #anchor; HTML comments do not reach the page; and
# book/checklinks.sh reports a missing file and a missing #anchor. Prints one line per
# failed check and exits 1 if any.
set -u
book=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "html-selftest: FAIL: $*" >&2; fails=$((fails + 1)); }

cd "$tmp" || exit 2
mkdir -p chapters/01-a chapters/02-b out/.links
cat > refs.bib <<'BIB'
@article{cohen2021x, author = {Cohen, Jeremy and Kaur, Simran and Li, Yuanzhi}, title = {Edge}, year = {2021}, eprint = {2103.00065}, archivePrefix = {arXiv}}
@article{kingma2015x, author = {Kingma, Diederik P. and Ba, Jimmy}, title = {Adam}, year = {2015}, doi = {10.0000/x}}
@article{smith2017a, author = {Smith, Leslie N.}, title = {Alpha}, year = {2017}}
@article{smith2017b, author = {Smith, Leslie N.}, title = {Beta}, year = {2017}}
BIB
printf 'chapters/01-a/README.md\nchapters/02-b/README.md\n' > order
cat > chapters/01-a/x.c <<'C'
int a;
// region r
int b;
// endregion r
C
cat > chapters/02-b/README.md <<'MD'
# Chapter 2: B

## 2.1 The section
MD
run() {  # run FILE.md: pandoc as html.mk runs it; output in out/page.html, stderr in err
  pandoc -t html5 -M book-mode=page -M book-src="$1" -M book-out=01-a.html \
    -M book-links=out/.links/p.txt "$1" --fail-if-warnings -f markdown+gfm_auto_identifiers-implicit_figures \
    --mathml --template "$book/template.html" --lua-filter "$book/book.lua" \
    -M book-order=order -M book-bib=refs.bib -M book-strict=1 -o out/page.html 2> err
}
page() {  # page TEXT: a chapter 1 README with TEXT
  printf '# Chapter 1: A\n\n%s\n' "$1" > chapters/01-a/README.md
}
expect_ok() {  # expect_ok WHAT TEXT PATTERN...: it builds and the page holds each PATTERN
  what=$1; page "$2"; shift 2
  if ! run chapters/01-a/README.md; then fail "$what: the run failed: $(cat err)"; return; fi
  for pat in "$@"; do
    grep -qF -- "$pat" out/page.html || fail "$what: no '$pat' in the page"
  done
}
expect_fail() {  # expect_fail WHAT TEXT MESSAGE: the run fails and says MESSAGE
  page "$2"
  if run chapters/01-a/README.md; then fail "$1: the run passed"; return; fi
  grep -qF -- "$3" err || fail "$1: no '$3' in: $(cat err)"
}

expect_ok "citations" 'Cohen et al. (2021) and (Kingma & Ba, 2015) and Smith (2017b) and Cohen et al.'"'"'s (2021).' \
  'href="bibliography.html#ref-cohen2021x" class="cite">Cohen et al.' \
  'class="cite">Kingma &amp; Ba, 2015</a>)' 'href="bibliography.html#ref-smith2017b"' \
  'class="cite">Cohen et al.'
expect_ok "links" 'See [2.1](../02-b/README.md#21-the-section), [x.c](x.c), [the region](x.c#r).

<!-- begin code:chapters/01-a/x.c#r -->
```c
int b;
```
<!-- end code:chapters/01-a/x.c#r -->

A number: <!--n:k-->42<!--/n-->.' \
  'href="02-b.html#21-the-section"' 'href="src/chapters/01-a/x.c.html"' \
  'href="src/chapters/01-a/x.c.html#region-r"' 'A number: 42.'
grep -q '<!--' out/page.html && fail "comments: an HTML comment reached the page"
expect_fail "unresolved citation" 'As Foo et al. (2020) show.' 'unresolved citation "Foo et al. (2020)"'
expect_fail "co-authors" 'As Smith & Topin (2017) show.' 'does not have the authors Smith, Topin'
expect_fail "ambiguous" 'As Smith (2017) shows.' 'ambiguous: 2 entries'
expect_fail "broken link" 'See [y](y.c).' 'broken link: y.c'
expect_fail "missing region" '<!-- begin code:chapters/01-a/x.c#nosuch -->
```c
int b;
```
<!-- end code:chapters/01-a/x.c#nosuch -->' 'no `region nosuch`'
expect_fail "math" 'The $\frobnicate{x}$.' 'Could not convert TeX math'

# checklinks: a missing file and a missing anchor
mkdir -p site
printf '<p id="here"><a href="#here">a</a> <a href="b.html#there">b</a> <img src="f.svg"></p>\n' > site/a.html
printf '<p id="elsewhere">b</p>\n' > site/b.html
if sh "$book/checklinks.sh" site > out/cl 2>&1; then fail "checklinks: passed a broken page"; fi
grep -q 'no id "there" in b.html' out/cl || fail "checklinks: missing anchor not reported: $(cat out/cl)"
grep -q 'broken link f.svg' out/cl || fail "checklinks: missing image not reported: $(cat out/cl)"
grep -q '#here' out/cl && fail "checklinks: reported a good anchor: $(cat out/cl)"

if [ "$fails" -gt 0 ]; then echo "html-selftest: $fails check(s) failed" >&2; exit 1; fi
echo "html-selftest: citations, links, regions, comments, math and the link check behave"
