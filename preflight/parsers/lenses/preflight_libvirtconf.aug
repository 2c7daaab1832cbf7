(*
Module: Preflight_Libvirtconf
  libvirt's own configuration syntax (src/util/virconf.c), for any key:
  libvirtd.conf, virtqemud.conf, virtproxyd.conf, qemu.conf ...
  The stock Libvirtd / Libvirtd_qemu lenses only accept the keys they list.

  Tree: one node per entry, labelled with the key.
  - a scalar keeps its token exactly as written, quotes included, so ints
    and the two quote styles stay distinct and save back unchanged:
      max_clients = 5000        ->  { "max_clients" = "5000" }
      listen_addr = "0.0.0.0"   ->  { "listen_addr" = "\"0.0.0.0\"" }
  - a list has no value and one numbered child per element:
      cgroup_controllers = [ "cpu", "memory" ]
                                ->  { "cgroup_controllers" { "1" = "\"cpu\"" } { "2" = "\"memory\"" } }
  - a comment after a value is a "#comment" child of the entry.

  Not supported (libvirt accepts them, the daemons' files do not use them):
  python-style """triple quoted""" strings, nested lists, ';' between
  statements on one line.
*)
module Preflight_Libvirtconf =

  let eol = Util.eol
  let indent = Util.indent

  (* virConfParseName: a letter, then letters, digits and '_' *)
  let key_re = /[A-Za-z][A-Za-z0-9_]*/
  let value_sep = del /[ \t]*=[ \t]*/ " = "

  (* virConfParseLong / virConfParseString: strings end at the line's end *)
  let int_re = /[-+]?[0-9]+/
  let scalar_re = int_re | /"[^"\n]*"/ | /'[^'\n]*'/

  (* the blanks around the elements belong to exactly one del each, so
     that "[ ]" and "[ \"a\", ]" split only one way *)
  let list_blank = del /[ \t\n]*/ " "
  let list_sep = del /[ \t\n]*,[ \t\n]*/ ", "
  let list_trailer = del /([ \t\n]*,)?[ \t\n]*/ " "
  let element = [ seq "el" . store scalar_re ]
  let elements = list_blank . element . ( list_sep . element )* . list_trailer
  let list = counter "el" . Util.del_str "["
           . ( elements | list_blank )
           . Util.del_str "]"

  (* two kinds of entry rather than one entry with a value union: Augeas
     tells subtrees apart by their value when saving, not stores *)
  let scalar_entry = [ indent . key key_re . value_sep . store scalar_re . Util.comment_or_eol ]
  let list_entry = [ indent . key key_re . value_sep . list . Util.comment_or_eol ]

  let lns = ( Util.empty | Util.comment | scalar_entry | list_entry )*
