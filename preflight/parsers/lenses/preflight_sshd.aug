(*
Module: Preflight_Sshd
  sshd_config as sshd reads it: the stock Sshd lens's entries, plus what
  sshd accepts and the stock lens rejects:
  - indented keywords outside Match blocks ("  Port 22");
  - "Match all" (a criterion without a value), also used by Debian and RHEL
    drop-ins to end a Match block;
  - a Match block with no settings (e.g. at the end of a file).
  Trailing "# comments" stay inside values, as in the stock lens; the
  caller strips them.
*)
module Preflight_Sshd =

  let all_cond = [ Sshd.sep . key /all/i ]

  let match_cond =
    [ label "Condition" . ( Sshd.condition_entry+ | all_cond ) . Sshd.eol ]

  let match =
    [ key /Match/i . match_cond . [ label "Settings" . Sshd.match_entry* ] ]

  let lns = ( Util.indent . Sshd.entry | Sshd.comment | Sshd.empty )* . match*
