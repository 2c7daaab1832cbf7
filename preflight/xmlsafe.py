"""XML from a host or a snapshot, parsed without a DTD.

libvirt formats every XML it hands out itself and never writes a DOCTYPE; a crafted one can declare
entities that expat expands up to 100 times the input (its amplification limit): a 9 MB capabilities
string in a snapshot took 1 GB to parse. Refusing the DOCTYPE stops that before any expansion.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET


class _NoDoctype(ET.TreeBuilder):
    def doctype(self, name: str, pubid: str | None, system: str | None) -> None:
        raise ET.ParseError("it has a DOCTYPE (libvirt never writes one; its entities could expand without bound)")


def parse_xml(text: str) -> ET.Element:
    """As ET.fromstring; ET.ParseError also for a document with a DOCTYPE."""
    parser = ET.XMLParser(target=_NoDoctype())
    parser.feed(text)
    root: ET.Element = parser.close()
    return root
