# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Links and URLs a user of the release tarball meets: every relative link resolves, no placeholder URL.

Run on the unpacked tarball (scripts/release-check.sh does):

    python tests/tools/release_links.py DIR

- every relative link of every Markdown file (``[text](target)``, ``![alt](target)``, ``[label]: target``)
  and every reStructuredText file (```text <target>`_``, ``.. _name: target``, ``.. image::``,
  ``.. figure::``, ``.. include::``, ``.. literalinclude::``) resolves to a file or directory under DIR;
  a ``#anchor`` into a Markdown file must name one of its headings (GitHub's anchors); absolute
  ``http(s)`` links are not fetched;
- no text file under DIR names a placeholder host (``example.com``, ``*.invalid``, ``localhost``, ...):
  a URL that points nowhere real is worse than none.

Prints one line per problem and exits 1 when there is any.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator
from urllib.parse import unquote, urlsplit

# --- placeholder hosts ------------------------------------------------------------------------
# RFC 2606 and RFC 6761: names reserved so that they never resolve to anything real
PLACEHOLDER_DOMAINS = ('example.com', 'example.net', 'example.org', 'example', 'invalid', 'test', 'localhost')
LOOPBACK_HOSTS = ('127.0.0.1', '0.0.0.0', '::1', '[::1]')
_URL = re.compile(r'\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s<>"\'`()\[\]{}]+')
# a reserved second-level name written without a scheme (galaxy.yml fields, e-mail addresses, prose)
_BARE_PLACEHOLDER = re.compile(r'(?<![\w.-])(?:[\w-]+\.)*(?:example\.(?:com|net|org)|[\w-]+\.invalid)(?![\w-])', re.I)


def placeholder_host(url: str) -> str | None:
    """The host of URL when it is a placeholder or loopback name, else None."""
    try:
        host = (urlsplit(url).hostname or '').lower().rstrip('.')
    except ValueError:
        return None
    if host in LOOPBACK_HOSTS or host.startswith('127.'):
        return host
    if any(host == domain or host.endswith('.' + domain) for domain in PLACEHOLDER_DOMAINS):
        return host
    return None


def placeholder_urls(path: str, text: str) -> list[str]:
    problems = []
    for number, line in enumerate(text.splitlines(), 1):
        found = [(match.group(0), placeholder_host(match.group(0))) for match in _URL.finditer(line)]
        problems += ['%s:%d: placeholder URL %s (host %s)' % (path, number, url, host) for url, host in found if host]
        if not any(host for _url, host in found):
            problems += [
                '%s:%d: placeholder host %s' % (path, number, match.group(0))
                for match in _BARE_PLACEHOLDER.finditer(line)
            ]
    return problems


# --- links ------------------------------------------------------------------------------------
_FENCE = re.compile(r'^\s*(```|~~~)')
_MD_CODE_SPAN = re.compile(r'(`+)(?:(?!\1).)+?\1')
_MD_INLINE_LINK = re.compile(
    r'!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*(<[^>]*>|[^\s()]+(?:\([^\s()]*\)[^\s()]*)*)(?:\s+"[^"]*")?\s*\)'
)
_MD_REFERENCE_DEFINITION = re.compile(r'^\s{0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)')
_MD_HEADING = re.compile(r'^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$')
_RST_LINK = re.compile(r'`[^`<]*<([^`>]+)>`__?')
_RST_TARGET = re.compile(r'^\s*\.\.\s+_[^:]+:\s+(\S+)\s*$')
_RST_FILE_DIRECTIVE = re.compile(r'^\s*\.\.\s+(?:image|figure|include|literalinclude)::\s+(\S+)')


def _md_lines(text: str, code_spans: bool = False) -> Iterator[tuple[int, str]]:
    """Lines outside fenced code blocks, without their code spans unless CODE_SPANS."""
    fenced = False
    for number, line in enumerate(text.splitlines(), 1):
        if _FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced:
            yield number, line if code_spans else _MD_CODE_SPAN.sub('', line)


def markdown_links(text: str) -> list[tuple[int, str]]:
    links = []
    for number, line in _md_lines(text):
        links += [(number, match.group(1)) for match in _MD_INLINE_LINK.finditer(line)]
        definition = _MD_REFERENCE_DEFINITION.match(line)
        if definition:
            links.append((number, definition.group(1)))
    return [(number, target[1:-1] if target.startswith('<') else target) for number, target in links]


def rst_links(text: str) -> list[tuple[int, str]]:
    links = []
    for number, line in enumerate(text.splitlines(), 1):
        # `text <name_>`_ refers to a target by name, not to a file
        links += [(number, match.group(1)) for match in _RST_LINK.finditer(line) if not match.group(1).endswith('_')]
        for pattern in (_RST_TARGET, _RST_FILE_DIRECTIVE):
            match = pattern.match(line)
            if match:
                links.append((number, match.group(1)))
    return [(number, target.strip()) for number, target in links]


def github_anchors(text: str) -> set[str]:
    """The anchors GitHub gives a Markdown file's headings: lower case, punctuation dropped, spaces to hyphens."""
    anchors: set[str] = set()
    seen: dict[str, int] = {}
    for _number, line in _md_lines(text, code_spans=True):
        heading = _MD_HEADING.match(line)
        if not heading:
            continue
        title = re.sub(r'\[([^\]]*)\]\([^)]*\)', r'\1', heading.group(1)).replace('`', '')
        slug = re.sub(r'[^\w\- ]', '', title.lower()).replace(' ', '-')
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        anchors.add(slug if count == 0 else '%s-%d' % (slug, count))
    return anchors


def _is_absolute(target: str) -> bool:
    return bool(re.match(r'^[a-zA-Z][a-zA-Z0-9+.-]*:', target)) or target.startswith('//')


def dangling_links(root: str, path: str, text: str) -> list[str]:
    """Relative links of the Markdown or RST file PATH (relative to ROOT) that do not resolve under ROOT."""
    links = markdown_links(text) if path.endswith('.md') else rst_links(text)
    problems = []
    for number, target in links:
        if _is_absolute(target):
            continue
        file_part, anchor = target.split('#', 1) if '#' in target else (target, '')
        if file_part:
            resolved = os.path.normpath(os.path.join(os.path.dirname(path), unquote(file_part)))
        else:
            resolved = path
        where = '%s:%d: link %s' % (path, number, target)
        if resolved == os.pardir or resolved.startswith(os.pardir + os.sep) or os.path.isabs(resolved):
            problems.append('%s points outside the collection' % where)
        elif not os.path.exists(os.path.join(root, resolved)):
            problems.append('%s: %s is not in the collection' % (where, resolved))
        elif anchor and resolved.endswith('.md') and os.path.isfile(os.path.join(root, resolved)):
            with open(os.path.join(root, resolved), encoding='utf-8') as handle:
                if anchor not in github_anchors(handle.read()):
                    problems.append('%s: %s has no heading for #%s' % (where, resolved, anchor))
    return problems


# --- the tree ---------------------------------------------------------------------------------
def text_files(root: str) -> Iterator[tuple[str, str]]:
    """(path relative to ROOT, text) of every UTF-8 text file under ROOT."""
    for directory, subdirectories, files in os.walk(root):
        subdirectories.sort()
        for name in sorted(files):
            full = os.path.join(directory, name)
            with open(full, 'rb') as handle:
                data = handle.read()
            if b'\0' in data:
                continue
            try:
                text = data.decode('utf-8')
            except UnicodeDecodeError:
                continue
            yield os.path.relpath(full, root), text


def check_tree(root: str) -> list[str]:
    problems = []
    for path, text in text_files(root):
        problems += placeholder_urls(path, text)
        if path.endswith(('.md', '.rst')):
            problems += dangling_links(root, path, text)
    return problems


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not os.path.isdir(argv[0]):
        sys.stderr.write('usage: release_links.py DIR (the unpacked collection tarball)\n')
        return 2
    problems = check_tree(argv[0])
    for problem in problems:
        print('release-check: FAIL: %s' % problem)
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
