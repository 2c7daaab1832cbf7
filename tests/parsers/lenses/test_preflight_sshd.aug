(* augparse test for preflight/parsers/lenses/preflight_sshd.aug *)
module Test_preflight_sshd =

test Preflight_Sshd.lns get "  Port 22\nMatch all\n" =
  { "Port" = "22" }
  { "Match" { "Condition" { "all" } } { "Settings" } }

test Preflight_Sshd.lns get "Match User foo\n  PermitRootLogin yes\nMatch all\nMaxSessions 3\n" =
  { "Match" { "Condition" { "User" = "foo" } } { "Settings" { "PermitRootLogin" = "yes" } } }
  { "Match" { "Condition" { "all" } } { "Settings" { "MaxSessions" = "3" } } }

test Preflight_Sshd.lns get "PermitRootLogin\n" = *
