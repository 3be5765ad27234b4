-- book/book.lua: the pandoc filter that turns the repository's markdown into the
-- website (`make html`, book/html.mk). Pandoc 2.17 (Debian bookworm).
--
-- One filter, several modes (metadata book-mode, set by book/html.mk):
--   page     a markdown page (a README, the glossary, the program index): HTML comments
--            and mdsync markers dropped, relative links rewritten to the website's
--            pages, listings and figures, "Author (year)" citations linked to the
--            bibliography, previous/next navigation
--   index    the title page: book/index.md, the introduction's opening paragraph and a
--            table of contents read from every page's headings
--   listing  a source file as a highlighted, line-numbered page (book-src)
--   dir      a directory of the repository (a results/ folder): its files
--   bib      the bibliography (after --citeproc): which pages cite each entry
-- Every page records what it links to (book-links: the listings, directories and
-- figures to make, the citations) for the second phase of the build.
-- Problems (a broken link, an unresolved citation, a math macro pandoc cannot render)
-- are printed as "book: FILE: ..." on stderr; with book-strict=1 the run then fails.

local stringify = pandoc.utils.stringify
local M = {}          -- metadata strings
local problems = 0

local function meta_str(meta, key)
  local v = meta[key]
  if v == nil then return nil end
  return stringify(v)
end

local function warn(msg)
  io.stderr:write("book: " .. (M.src or "?") .. ": " .. msg .. "\n")
  problems = problems + 1
end

local function read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

local function exists(path)
  local f = io.open(path, "rb")
  if f then f:close() return true end
  return false
end

local function is_dir(path)
  -- io.open succeeds on a directory on Linux, but reading it fails
  local f = io.open(path, "rb")
  if not f then return false end
  local ok, _, code = f:read(1)
  f:close()
  return ok == nil and code == 21
end

-- write only when the content changed, so that make sees no change otherwise
local function write_if_changed(path, text)
  if read_file(path) == text then return end
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end

-- ---------------------------------------------------------------------------
-- Paths. Everything is relative to the repository root (make's working directory).

local function dirname(p)
  return p:match("^(.*)/[^/]*$") or ""
end

local function join(dir, rel)
  if dir == "" then return rel end
  return dir .. "/" .. rel
end

-- "a/b/../c/./d" -> "a/c/d"; nil when it climbs out of the repository
local function normalize(p)
  local out = {}
  for part in p:gmatch("[^/]+") do
    if part == ".." then
      if #out == 0 then return nil end
      table.remove(out)
    elseif part ~= "." then
      table.insert(out, part)
    end
  end
  return table.concat(out, "/")
end

-- a relative URL from the page at output path `from` to output path `to`
local function relurl(from, to)
  local fd = {}
  for part in dirname(from):gmatch("[^/]+") do table.insert(fd, part) end
  local td = {}
  for part in to:gmatch("[^/]+") do table.insert(td, part) end
  local i = 1
  while i <= #fd and i < #td and fd[i] == td[i] do i = i + 1 end
  local parts = {}
  for _ = i, #fd do table.insert(parts, "..") end
  for j = i, #td do table.insert(parts, td[j]) end
  return table.concat(parts, "/")
end

-- The website's page for a markdown file of the repository (see book/html.mk).
local function page_of(md)
  if md == "README.md" then return "introduction.html" end
  local ch = md:match("^chapters/([^/]+)/README%.md$")
  if ch then return ch .. ".html" end
  if md == "experiments/README.md" then return "experiments.html" end
  local ex = md:match("^experiments/([^/]+)/README%.md$")
  if ex then return "exp-" .. ex .. ".html" end
  if md == "exercises/README.md" then return "exercises.html" end
  if md == "book/glossary.md" then return "glossary.html" end
  if md == "book/programs.md" then return "programs.html" end
  if md == "book/bibliography.md" then return "bibliography.html" end
  if md == "book/index.md" then return "index.html" end
  return (md:gsub("%.md$", ""):gsub("/", "-")) .. ".html"
end

local function listing_of(path) return "src/" .. path .. ".html" end
local function dir_page_of(path) return "src/" .. path .. "/index.html" end

-- the order of the pages (book/html.mk writes it): their markdown sources
local order = {}
local pages = {}      -- markdown path -> true, for every page of the website
local function load_order()
  local text = read_file(M.order or "") or ""
  for line in text:gmatch("[^\n]+") do
    table.insert(order, line)
    pages[line] = true
  end
end

-- the first "# " heading of a markdown file, as plain text
local title_cache = {}
local function title_of(md)
  if title_cache[md] then return title_cache[md] end
  local t
  if md == "README.md" then t = "Introduction"
  elseif md == "book/bibliography.md" then t = "Bibliography"
  elseif md == "book/programs.md" then t = "The programs"
  else
    local text = read_file(md) or ""
    local h = text:match("^# ([^\n]+)") or text:match("\n# ([^\n]+)")
    t = h and stringify(pandoc.read(h, "markdown").blocks) or md
  end
  title_cache[md] = t
  return t
end

-- ---------------------------------------------------------------------------
-- What this page links to, for the second phase of the build (book/html.mk).
local records = {}
local seen_record = {}
local function record(kind, path, extra)
  local line = kind .. "\t" .. path .. "\t" .. M.out .. "\t" .. (M.title or "") ..
               (extra and ("\t" .. extra) or "")
  if not seen_record[line] then
    seen_record[line] = true
    table.insert(records, line)
  end
end

-- ---------------------------------------------------------------------------
-- Links: a relative link of the markdown becomes a link of the website.
--   README.md (or a directory holding one) and every other page's .md -> its page
--   figures/NAME.svg                                                   -> figures/NAME.svg
--   any other file                                                     -> its listing
--   a directory                                                        -> its file list
-- The #anchor is kept (pages use GitHub's ids: gfm_auto_identifiers).

local function is_external(url)
  return url:match("^%a[%w+.-]*:") ~= nil or url:match("^//") ~= nil
end

local function rewrite_url(url, is_image)
  if url == "" or url:sub(1, 1) == "#" or is_external(url) then return url end
  local path, frag = url:match("^([^#]*)(#?.*)$")
  path = path:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end)
  local target = normalize(join(dirname(M.src), path))
  if target == nil or target == "" then
    if target == "" then target = "." else
      warn("link leaves the repository: " .. url)
      return url
    end
  end
  local out
  if target:match("%.md$") then
    if not exists(target) and not pages[target] then
      warn("broken link: " .. url .. " (no file " .. target .. ")")
      return url
    end
    if not pages[target] then
      warn("link to " .. target .. ", which is not a page of the website (add it to HTML_MD in book/html.mk)")
      return url
    end
    out = page_of(target)
  elseif target == "." or is_dir(target) then
    local readme = (target == "." and "" or target .. "/") .. "README.md"
    if pages[readme] then
      out = page_of(readme)
    else
      out = dir_page_of(target)
      record("dir", target)
    end
  elseif not exists(target) then
    warn("broken link: " .. url .. " (no file " .. target .. ")")
    return url
  elseif target:match("^figures/[^/]+%.svg$") or target:match("^figures/[^/]+%.png$") then
    out = target
    record("fig", target)
  elseif is_image then
    warn("image outside figures/: " .. url)
    return url
  else
    out = listing_of(target)
    record("src", target)
  end
  if frag ~= "" and frag ~= "#" then
    record("anchor", out, frag)
  end
  return relurl(M.out, out) .. (frag ~= "#" and frag or "")
end

-- ---------------------------------------------------------------------------
-- Citations: "Cohen et al. (2021)", "Smith and Le (2018)", "Goyal et al. 2017",
-- "(Kingma & Ba, 2015)", "Ma, Bassily and Belkin 2018", "Loshchilov & Hutter 2019a"
-- are matched against book/references.bib by the first author's family name and the
-- year (and the letter, for two works of one first author in one year: a, b, ... in
-- the order of their titles, as the bibliography shows them).

local bib = {}           -- "family|year" -> list of {id=, title=}
local bib_names = {}     -- every author family name in the bibliography -> true
local bib_loaded = false

local function lower(s) return pandoc.text.lower(s) end

local function load_bib()
  if bib_loaded then return end
  bib_loaded = true
  local text = read_file(M.bib or "")
  if not text then
    warn("no bibliography " .. tostring(M.bib))
    return
  end
  local doc = pandoc.read(text, "bibtex")
  for _, r in ipairs(doc.meta.references or {}) do
    local names = r.author or r.editor
    local year = r.issued and stringify(r.issued):match("^(%d%d%d%d)")
    if names and #names > 0 and year then
      local fam = names[1].family and stringify(names[1].family) or stringify(names[1].literal or "")
      local key = lower(fam) .. "|" .. year
      bib[key] = bib[key] or {}
      local fams = {}
      for _, n in ipairs(names) do
        if n.family then
          bib_names[lower(stringify(n.family))] = true
          table.insert(fams, lower(stringify(n.family)))
        end
      end
      table.insert(bib[key], {id = stringify(r.id), title = lower(stringify(r.title or "")), authors = fams})
    end
  end
  for _, list in pairs(bib) do
    table.sort(list, function(a, b) return a.title < b.title end)
  end
end

-- a family name: a capital, then letters (any UTF-8 letter), hyphens or apostrophes,
-- with at least one lower-case letter (so "ICLR 2021" is no citation)
local function as_name(tok)
  local s = tok:gsub("^%(", ""):gsub(",$", "")
  -- a possessive: Yarats', Hutter's
  s = s:gsub("\226\128\153s$", ""):gsub("'s$", ""):gsub("\226\128\153$", ""):gsub("'$", "")
  if not s:match("^[%u\195-\197]") then return nil end
  if s:match("[^%a\128-\255'%-]") then return nil end
  if not s:match("%l") then return nil end
  return s
end

-- the entries that fit a mention: first author and year, and the mention's other
-- names among the entry's authors ("Smith & Topin" is not Smith's single-author paper);
-- "et al." needs three authors or more, a single name a single author
local function resolve(first, year, letter, kind, others)
  local list = bib[lower(first) .. "|" .. year]
  if not list then return nil, "no entry" end
  if letter ~= "" then
    local i = letter:byte() - 96
    if list[i] then return list[i].id end
    return nil, "no entry " .. letter .. " (" .. #list .. " of that first author and year)"
  end
  local fits = {}
  for _, e in ipairs(list) do
    local ok = true
    if kind == "etal" then ok = #e.authors >= 3
    elseif kind == "single" then ok = #e.authors == 1
    else
      ok = #e.authors == #others + 1
      for _, o in ipairs(others) do
        local found = false
        for _, a in ipairs(e.authors) do if a == lower(o) then found = true end end
        if not found then ok = false end
      end
    end
    if ok then table.insert(fits, e) end
  end
  if #fits == 0 then
    local what = kind == "etal" and "three or more authors" or kind == "single" and "a single author"
                 or ("the authors " .. first .. ", " .. table.concat(others, ", "))
    return nil, "the entry of that first author and year (" .. list[1].id .. ") does not have " .. what
  end
  if #fits > 1 then return nil, "ambiguous: " .. #fits .. " entries; add the letter (a, b, ...)" end
  return fits[1].id
end

-- the words before position i of a flat inline list: {tok=, idx=} from nearest back
local function words_before(inl, i, max)
  local out = {}
  local j = i - 1
  while j >= 1 and #out < max do
    local el = inl[j]
    if el.t == "Str" then
      table.insert(out, {tok = el.text, idx = j})
    elseif el.t ~= "Space" and el.t ~= "SoftBreak" then
      break
    end
    j = j - 1
  end
  return out
end

-- pandoc joins an abbreviation to the next word with a no-break space ("al.\194\160(2021)"):
-- split it, so that the year is a word of its own
local function split_nbsp(inl)
  local out = pandoc.List()
  for _, el in ipairs(inl) do
    local a, b = nil, nil
    if el.t == "Str" then a, b = el.text:match("^(.-%.)\194\160(.+)$") end
    if a then
      out:insert(pandoc.Str(a)) out:insert(pandoc.Space()) out:insert(pandoc.Str(b))
    else
      out:insert(el)
    end
  end
  return out
end

local function cite_inlines(inl)
  inl = split_nbsp(inl)
  local out = pandoc.List()
  local i = 1
  local n = #inl
  -- work on a copy we can cut from the end of `out`
  for k = 1, n do
    local el = inl[k]
    local handled = false
    if el.t == "Str" then
      local open, year, letter, rest = el.text:match("^(%(?)(%d%d%d%d)(%l?)(%p*)$")
      if year and not (year:match("^19") or year:match("^20")) then year = nil end
      if year then
        -- the words before, in `out` (already processed), nearest first
        local w = words_before(out, #out + 1, 9)
        local p = 1
        if w[p] and w[p].tok:match("^arXiv:") and w[p + 1] and w[p + 1].tok:match(",$") then p = p + 1 end
        local first, start, kind, others
        if w[p] and (w[p].tok == "al." or w[p].tok == "al.," or w[p].tok == "al.’s" or w[p].tok == "al.'s")
           and w[p + 1] and w[p + 1].tok == "et" and w[p + 2] and as_name(w[p + 2].tok) then
          first, start, kind = as_name(w[p + 2].tok), w[p + 2].idx, "etal"
        elseif w[p] and as_name(w[p].tok) and w[p + 1] and (w[p + 1].tok == "and" or w[p + 1].tok == "&")
           and w[p + 2] and as_name(w[p + 2].tok) then
          local q = p + 2
          while w[q + 1] and w[q + 1].tok:match(",$") and as_name(w[q + 1].tok) do q = q + 1 end
          first, start, kind = as_name(w[q].tok), w[q].idx, "multi"
          others = {}
          for r = q - 1, p, -1 do
            if w[r].tok ~= "and" and w[r].tok ~= "&" then table.insert(others, as_name(w[r].tok)) end
          end
        elseif w[p] and as_name(w[p].tok) then
          first, start, kind = as_name(w[p].tok), w[p].idx, "single"
        end
        if first then
          local id, why = resolve(first, year, letter, kind, others or {})
          local mention = {}
          for q = start, #out do table.insert(mention, stringify(out[q])) end
          local text = table.concat(mention) .. el.text
          if id then
            -- link from the name to the year (with its parenthesis, when it opens one)
            local lead = out[start].text:match("^%(") and "(" or ""
            local body = pandoc.List()
            for q = start, #out do body:insert(out[q]) end
            if lead ~= "" then body[1] = pandoc.Str(body[1].text:sub(2)) end
            local yeartext, after
            if open == "(" then
              local close = rest:match("^%)") and ")" or ""
              yeartext, after = "(" .. year .. letter .. close, rest:sub(#close + 1)
            else
              yeartext, after = year .. letter, rest
            end
            body:insert(pandoc.Str(yeartext))
            for _ = start, #out do out:remove() end
            if lead ~= "" then out:insert(pandoc.Str(lead)) end
            out:insert(pandoc.Link(body, relurl(M.out, "bibliography.html") .. "#ref-" .. id, "",
                                   pandoc.Attr("", {"cite"})))
            if after ~= "" then out:insert(pandoc.Str(after)) end
            record("cite", id)
            handled = true
          elseif kind ~= "single" or bib_names[lower(first)] then
            warn("unresolved citation \"" .. text .. "\": " .. why ..
                 " for first author " .. first .. ", " .. year .. letter .. " in " .. M.bib)
          end
        end
      end
    end
    if not handled then out:insert(el) end
  end
  return out
end

-- ---------------------------------------------------------------------------
-- HTML comments (mdsync's number markers, <!-- begin ... --> regions, stamps,
-- solution markers) must not reach the page.

local function strip_comments(s)
  return (s:gsub("<!%-%-.-%-%->", ""))
end

-- math pandoc's texmath cannot parse, rewritten to what it can (GitHub renders both);
-- and plain parentheses and brackets made non-stretchy: texmath marks every ( ) [ ]
-- stretchy, which browsers without a math font draw far too tall, while TeX (and
-- GitHub) stretch only \left( \right) -- those stay as they are.
local DELIM_CMDS = {left = true, right = true, middle = true, big = true, Big = true, bigg = true,
  Bigg = true, bigl = true, bigr = true, Bigl = true, Bigr = true, biggl = true, biggr = true,
  Biggl = true, Biggr = true, bigm = true, Bigm = true}
local TEXT_CMDS = {text = true, textrm = true, textit = true, textbf = true, textsf = true,
  texttt = true, mbox = true, operatorname = true, label = true, tag = true}
local PLAIN = {["("] = "\\lparen ", [")"] = "\\rparen ", ["["] = "\\lbrack ", ["]"] = "\\rbrack "}

local function fix_math(s)
  s = s:gsub("\\Bigl([^%a])", "\\Big%1"):gsub("\\Bigr([^%a])", "\\Big%1"):gsub("\\Bigm([^%a])", "\\Big%1")
  local out, i, n = {}, 1, #s
  local function copy_group()      -- a balanced {...} at i (after spaces), verbatim
    while i <= n and s:sub(i, i):match("%s") do table.insert(out, s:sub(i, i)) i = i + 1 end
    local open, close = s:sub(i, i), nil
    if open == "{" then close = "}" elseif open == "[" then close = "]" else return end
    local depth = 0
    repeat
      local c = s:sub(i, i)
      if c == "\\" then table.insert(out, s:sub(i, i + 1)) i = i + 2
      else
        if c == open then depth = depth + 1 elseif c == close then depth = depth - 1 end
        table.insert(out, c) i = i + 1
      end
    until depth == 0 or i > n
  end
  while i <= n do
    local c = s:sub(i, i)
    if c == "\\" then
      local name = s:match("^%a+", i + 1)
      if name then
        table.insert(out, "\\" .. name) i = i + 1 + #name
        if DELIM_CMDS[name] then
          while i <= n and s:sub(i, i):match("%s") do table.insert(out, s:sub(i, i)) i = i + 1 end
          if s:sub(i, i) == "\\" then
            local d = s:match("^\\%a+", i) or s:sub(i, i + 1)
            table.insert(out, d) i = i + #d
          else
            table.insert(out, s:sub(i, i)) i = i + 1
          end
        elseif TEXT_CMDS[name] then
          copy_group()
        elseif name == "sqrt" then
          copy_group()             -- the optional [n]
        end
      else
        table.insert(out, s:sub(i, i + 1)) i = i + 2
      end
    elseif PLAIN[c] then
      table.insert(out, PLAIN[c]) i = i + 1
    else
      table.insert(out, c) i = i + 1
    end
  end
  return table.concat(out)
end

-- the line of `region NAME` in a source file (mdsync's quoting convention)
local function region_line(path, name)
  local text = read_file(path)
  if not text then return nil end
  local n = 0
  for line in (text .. "\n"):gmatch("([^\n]*)\n") do
    n = n + 1
    if line:match("region%s+" .. name:gsub("%p", "%%%0") .. "%s*$") and not line:match("endregion") then
      return n
    end
  end
  return nil
end

-- a quoted region gets a caption linking to the file's listing, at the region
local function code_caption(spec)
  local path, region = spec:match("^([^#]+)#?(.*)$")
  if not exists(path) then
    warn("quoted code from a missing file " .. path)
    return nil
  end
  record("src", path)
  local url = relurl(M.out, listing_of(path))
  local label = path
  if region ~= "" then
    local line = region_line(path, region)
    if line then
      url = url .. "#region-" .. region
      record("region", path, region)
    else
      warn("no `region " .. region .. "` in " .. path)
    end
  end
  return pandoc.Para({pandoc.Str("From "), pandoc.Link({pandoc.Code(label)}, url, "", pandoc.Attr("", {"book"}))})
end

local function page_blocks(blocks)
  local out = pandoc.List()
  local pending
  for _, b in ipairs(blocks) do
    if b.t == "RawBlock" and (b.format == "html" or b.format == "html5") then
      local spec = b.text:match("<!%-%-%s*begin%s+code:(%S+)%s*%-%->")
      if spec then pending = spec end
      local rest = strip_comments(b.text)
      if rest:match("%S") then out:insert(pandoc.RawBlock(b.format, rest)) end
    elseif b.t == "CodeBlock" and pending then
      local cap = code_caption(pending)
      pending = nil
      if cap then
        out:insert(pandoc.Div({b, cap}, pandoc.Attr("", {"quoted-code"})))
      else
        out:insert(b)
      end
    else
      out:insert(b)
    end
  end
  return out
end

-- ---------------------------------------------------------------------------
-- Navigation: previous / contents / next, into the template's variables.

local function set_nav(meta)
  local idx
  for i, md in ipairs(order) do if md == M.src then idx = i end end
  meta["css"] = relurl(M.out, "book.css")
  meta["home"] = relurl(M.out, "index.html")
  if idx then
    if idx > 1 then
      meta["prev-href"] = relurl(M.out, page_of(order[idx - 1]))
      meta["prev-title"] = title_of(order[idx - 1])
    else
      meta["prev-href"] = relurl(M.out, "index.html")
      meta["prev-title"] = "Contents"
    end
    if idx < #order then
      meta["next-href"] = relurl(M.out, page_of(order[idx + 1]))
      meta["next-title"] = title_of(order[idx + 1])
    end
  end
end

local function finish(doc)
  if M.links then
    write_if_changed(M.links, table.concat(records, "\n") .. (#records > 0 and "\n" or ""))
  end
  if problems > 0 and M.strict == "1" then
    error("book: " .. M.src .. ": " .. problems .. " problem(s), see above", 0)
  end
  return doc
end

-- ---------------------------------------------------------------------------
-- Modes

local function first_h1(blocks)
  for _, b in ipairs(blocks) do
    if b.t == "Header" and b.level == 1 then return stringify(b.content) end
  end
end

local function page_mode(doc)
  M.title = first_h1(doc.blocks) or title_of(M.src)
  load_bib()
  doc = doc:walk({
    RawInline = function(el)
      if el.format == "html" or el.format == "html5" then
        local rest = strip_comments(el.text)
        if rest == "" then return {} end
        el.text = rest
        return el
      end
    end,
    Math = function(el) el.text = fix_math(el.text) return el end,
  })
  doc = doc:walk({Blocks = page_blocks})
  -- citations first (in every list of inlines), then the links: citation links made
  -- inside an existing link are unwrapped again
  doc = doc:walk({Inlines = cite_inlines})
  doc = doc:walk({
    Link = function(el)
      if el.classes:includes("cite") or el.classes:includes("book") then return nil end
      el.content = pandoc.walk_inline(pandoc.Span(el.content), {
        Link = function(l) if l.classes:includes("cite") then return l.content end end,
      }).content
      el.target = rewrite_url(el.target, false)
      return el
    end,
    Image = function(el)
      el.src = rewrite_url(el.src, true)
      return el
    end,
  })
  if M.src == "book/programs.md" then doc.meta.bodyclass = "wide" end
  doc = doc:walk({
    Header = function(h)
      if h.identifier ~= "" and h.level >= 2 then
        h.content:insert(pandoc.Link({pandoc.Str("#")}, "#" .. h.identifier, "",
          pandoc.Attr("", {"heading-anchor"}, {["aria-label"] = "link to this section"})))
        return h
      end
    end,
  })
  set_nav(doc.meta)
  doc.meta.pagetitle = M.title
  return finish(doc)
end

-- the title page: book/index.md, the introduction's first paragraph, the contents
local function index_mode(doc)
  M.title = "Contents"
  local toc = pandoc.List()
  local function item(md, depth)
    local text = read_file(md)
    local entry = pandoc.List()
    local href = page_of(md)
    entry:insert(pandoc.Plain({pandoc.Link(title_of(md), href)}))
    if text and depth > 0 then
      local d = pandoc.read(text, "markdown+gfm_auto_identifiers")
      local subs = pandoc.List()
      for _, b in ipairs(d.blocks) do
        if b.t == "Header" and b.level == 2 then
          subs:insert({pandoc.Plain({pandoc.Link(b.content, href .. "#" .. b.identifier)})})
          record("anchor", href, "#" .. b.identifier)
        end
      end
      if #subs > 0 then entry:insert(pandoc.BulletList(subs)) end
    end
    return entry
  end
  local groups = {
    {"Introduction", function(md) return md == "README.md" end, 0},
    {"Chapters", function(md) return md:match("^chapters/") end, 1},
    {"Experiments", function(md) return md:match("^experiments/") end, 0},
    {"Coursework", function(md) return md:match("^exercises/") end, 0},
    {"Reference", function(md) return true end, 0},
  }
  local done = {}
  for _, g in ipairs(groups) do
    local items = pandoc.List()
    for _, md in ipairs(order) do
      if not done[md] and g[2](md) then
        done[md] = true
        items:insert(item(md, g[3]))
      end
    end
    if #items > 0 then
      toc:insert(pandoc.Header(2, g[1]))
      if g[1] == "Chapters" then toc:insert(pandoc.OrderedList(items))
      else toc:insert(pandoc.BulletList(items)) end
    end
  end
  -- the introduction's opening paragraph, as the book's own words
  local intro = read_file("README.md")
  local blocks = pandoc.List()
  if intro then
    local d = pandoc.read(intro, "markdown+gfm_auto_identifiers")
    for _, b in ipairs(d.blocks) do
      if b.t == "Para" then blocks:insert(pandoc.Div({b}, pandoc.Attr("", {"blurb"}))) break end
    end
  end
  doc.blocks = blocks .. doc.blocks .. {pandoc.Div(toc, pandoc.Attr("toc", {"toc"}))}
  doc = doc:walk({
    Link = function(el)
      if el.target:match("^introduction%.html") or el.target:match("%.html") then return nil end
      el.target = rewrite_url(el.target, false)
      return el
    end,
  })
  doc.meta.css = "book.css"
  doc.meta.home = "index.html"
  doc.meta["next-href"] = order[1] and page_of(order[1]) or nil
  doc.meta["next-title"] = order[1] and title_of(order[1]) or nil
  return finish(doc)
end

-- which pages link to `path` (the records of every page, book-backrefs)
local function backrefs(kind, path)
  local text = read_file(M.backrefs or "") or ""
  local seen, list = {}, pandoc.List()
  for line in text:gmatch("[^\n]+") do
    local k, p, page, title = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t([^\t]*)")
    if k == kind and p == path and not seen[page] then
      seen[page] = true
      list:insert({page = page, title = title})
    end
  end
  return list
end

local function linked_from(kind, path)
  local refs = backrefs(kind, path)
  if #refs == 0 then return nil end
  local inl = pandoc.List({pandoc.Str("Linked from:"), pandoc.Space()})
  for i, r in ipairs(refs) do
    if i > 1 then inl:insert(pandoc.Str(";")) inl:insert(pandoc.Space()) end
    inl:insert(pandoc.Link(r.title, relurl(M.out, r.page)))
  end
  return pandoc.Para(inl)
end

local LANG = {c = "c", h = "c", mk = "makefile", sh = "bash", py = "python", md = "markdown",
              lua = "lua", html = "html", css = "css", yml = "yaml", yaml = "yaml", json = "json"}
local MAX_LINES = 2000

local function listing_mode(doc)
  local path = M.src
  M.title = path
  local text = read_file(path)
  if not text then
    warn("cannot read " .. path)
    return finish(doc)
  end
  local base = path:match("[^/]+$")
  local ext = base:match("%.([^.]+)$")
  local lang = (base == "Makefile" and "makefile") or (ext and LANG[ext]) or nil
  local lines = {}
  for line in (text:gsub("\n$", "") .. "\n"):gmatch("([^\n]*)\n") do table.insert(lines, line) end
  local total = #lines
  local shown = math.min(total, MAX_LINES)
  local blocks = pandoc.List()
  blocks:insert(pandoc.Header(1, {pandoc.Code(path)}, pandoc.Attr("top")))
  local info = pandoc.List({pandoc.Str("The file " ), pandoc.Code(path),
    pandoc.Str(" of the repository, " .. total .. (total == 1 and " line." or " lines."))})
  if shown < total then
    info:insert(pandoc.Space())
    info:insert(pandoc.Str("The first " .. shown .. " are shown; the rest is in the repository."))
  end
  blocks:insert(pandoc.Para(info))
  local lf = linked_from("src", path)
  if lf then blocks:insert(lf) end
  -- one code block per quoted region (mdsync's `region NAME` markers), numbered on
  local function chunk(from, to, id)
    if to < from then return end
    local classes = {"numberLines"}
    if lang then table.insert(classes, 1, lang) end
    local attr = pandoc.Attr(id, classes, {startFrom = tostring(from)})
    blocks:insert(pandoc.CodeBlock(table.concat(lines, "\n", from, to), attr))
  end
  local start, id = 1, "L"
  for n = 1, shown do
    local name = lines[n]:match("[^d]region%s+([%w_%-%.]+)%s*$") or lines[n]:match("^region%s+([%w_%-%.]+)%s*$")
    if name and not lines[n]:match("endregion") then
      chunk(start, n - 1, id)
      start, id = n, "region-" .. name
    end
  end
  chunk(start, shown, id)
  doc.blocks = blocks
  doc.meta.css = relurl(M.out, "book.css")
  doc.meta.home = relurl(M.out, "index.html")
  doc.meta.bodyclass = "wide"
  doc.meta.pagetitle = path
  return finish(doc)
end

local function dir_mode(doc)
  local path = M.src
  M.title = path .. "/"
  local blocks = pandoc.List()
  blocks:insert(pandoc.Header(1, {pandoc.Code(path .. "/")}, pandoc.Attr("top")))
  blocks:insert(pandoc.Para({pandoc.Str("A directory of the repository. Each file opens as plain text.")}))
  local lf = linked_from("dir", path)
  if lf then blocks:insert(lf) end
  local items = pandoc.List()
  local p = io.popen("ls -1Ap '" .. path:gsub("'", "'\\''") .. "'")
  for name in p:lines() do
    if name:match("/$") then
      items:insert({pandoc.Plain({pandoc.Link({pandoc.Code(name)}, name .. "index.html")})})
    else
      local size = 0
      local f = io.open(path .. "/" .. name, "rb")
      if f then size = f:seek("end") f:close() end
      items:insert({pandoc.Plain({pandoc.Link({pandoc.Code(name)}, name .. ".txt"),
        pandoc.Str(" (" .. size .. " bytes)")})})
    end
  end
  p:close()
  blocks:insert(pandoc.BulletList(items))
  doc.blocks = blocks
  doc.meta.css = relurl(M.out, "book.css")
  doc.meta.home = relurl(M.out, "index.html")
  doc.meta.pagetitle = path .. "/"
  return finish(doc)
end

-- the bibliography (after --citeproc): each entry says which pages cite it
local function bib_mode(doc)
  M.title = "Bibliography"
  doc = doc:walk({
    Div = function(el)
      local id = el.identifier:match("^ref%-(.+)$")
      if id and el.classes:includes("csl-entry") then
        local refs = backrefs("cite", id)
        if #refs > 0 then
          local inl = pandoc.List({pandoc.Str("Cited in:"), pandoc.Space()})
          for i, r in ipairs(refs) do
            if i > 1 then inl:insert(pandoc.Str(";")) inl:insert(pandoc.Space()) end
            inl:insert(pandoc.Link(r.title, relurl(M.out, r.page), "", pandoc.Attr("", {"book"})))
          end
          el.content:insert(pandoc.Div({pandoc.Plain(inl)}, pandoc.Attr("", {"cited-in"})))
        end
        return el
      end
    end,
  })
  doc = doc:walk({
    Link = function(el)
      if el.classes:includes("book") then return nil end
      el.target = rewrite_url(el.target, false)
      return el
    end,
  })
  set_nav(doc.meta)
  doc.meta.pagetitle = "Bibliography"
  return finish(doc)
end

function Pandoc(doc)
  local meta = doc.meta
  for _, k in ipairs({"mode", "src", "out", "order", "links", "bib", "strict", "backrefs"}) do
    M[k] = meta_str(meta, "book-" .. k)
  end
  M.src = M.src or "?"
  M.out = M.out or "page.html"
  load_order()
  if M.mode == "index" then return index_mode(doc) end
  if M.mode == "listing" then return listing_mode(doc) end
  if M.mode == "dir" then return dir_mode(doc) end
  if M.mode == "bib" then return bib_mode(doc) end
  return page_mode(doc)
end
