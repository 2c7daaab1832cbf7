(* augparse test for preflight/parsers/lenses/preflight_libvirtconf.aug
   Run: augparse -I preflight/parsers/lenses tests/parsers/lenses/test_preflight_libvirtconf.aug *)
module Test_preflight_libvirtconf =

let conf = "# Processing controls
#max_clients = 5000
max_clients = 50
  listen_addr = \"0.0.0.0\"   # all
auth = 'none'
offset = -3
unknown_key_1 = \"any key is fine\"
cgroup_controllers = [ \"cpu\",
    \"memory\", ]
empty = [ ]
"

test Preflight_Libvirtconf.lns get conf =
  { "#comment" = "Processing controls" }
  { "#comment" = "max_clients = 5000" }
  { "max_clients" = "50" }
  { "listen_addr" = "\"0.0.0.0\"" { "#comment" = "all" } }
  { "auth" = "'none'" }
  { "offset" = "-3" }
  { "unknown_key_1" = "\"any key is fine\"" }
  { "cgroup_controllers" { "1" = "\"cpu\"" } { "2" = "\"memory\"" } }
  { "empty" }

(* change a value in place; add a key after its commented-out default *)
test Preflight_Libvirtconf.lns put "#max_clients = 5000\nmax_workers = 20 # keep\n" after
  set "max_workers" "40";
  insa "max_clients" "#comment[1]";
  set "max_clients" "100"
  = "#max_clients = 5000\nmax_clients = 100\nmax_workers = 40 # keep\n"

(* new lists and strings get libvirt's own spacing *)
test Preflight_Libvirtconf.lns put "" after
  set "listen_addr" "\"::\"";
  set "cgroup_controllers/1" "\"cpu\"";
  set "cgroup_controllers/2" "\"memory\""
  = "listen_addr = \"::\"\ncgroup_controllers = [ \"cpu\", \"memory\" ]\n"

test Preflight_Libvirtconf.lns get "max_clients = abc\n" = *
test Preflight_Libvirtconf.lns get "max_clients 5\n" = *
test Preflight_Libvirtconf.lns get "listen_addr = \"0.0.0.0\n" = *
test Preflight_Libvirtconf.lns get "a = 1 2\n" = *
test Preflight_Libvirtconf.lns get "_a = 1\n" = *
