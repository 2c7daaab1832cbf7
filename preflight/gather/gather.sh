# preflight gather: ONE POSIX sh script per host (dash, bash; RHEL 7/8/9, Debian, Ubuntu).
# No python on the host. Run as:  sh -c "$SCRIPT" preflight-gather TOKEN ARG...
# ARG: t:SECONDS (per-command timeout)  c:BYTES (largest file read, digits only)
#      x:names-only (a follow-up run: only the n: lookups)  f:FILE (a file probe)  n:NAME (getent ahosts NAME)
#      p:PATH (stat + sha256 + header of a guest disk path)  d:DIR (free space in DIR)
#      e:PATH (first line of a guest emulator's `PATH -version`, then its -machine help and -accel help)
#      s:SECTION (run only the named sections; none given: all). Sections and their probe keys are
#      declared in preflight/model/probes.py SPECS (tests/gather/test_probe_table.py checks both agree).
# Output: framed sections, parsed by preflight/gather/frames.py. Every marker is
#   "\n--TOKEN <tag>\n" with a random TOKEN, so no file content can forge one:
#   K key | H how | O stdout | E rc status (+ stderr) | Z end of section; DONE at the very end.
# Probe keys and output formats follow preflight/model/probes.py exactly.

PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH
LC_ALL=C  # byte-order glob sorting (as sshd's glob), untranslated messages
export PATH LC_ALL
TOK=$1
shift
TMO_S=10
MAXB=4194304  # bytes per file (c:BYTES overrides; preflight.fsutil.MAX_FILE_BYTES)

have() { command -v "$1" >/dev/null 2>&1; }

umask 077
W=$(mktemp -d 2>/dev/null) || W=
if [ -z "$W" ]; then
    W=${TMPDIR:-/tmp}/preflight.$$
    mkdir "$W" || exit 3
fi
trap 'rm -rf "$W"' EXIT
trap 'exit 1' HUP INT TERM
ERR=$W/err
OUT=$W/out

# timeout(1) only runs executables; a hung NFS mount or resolver must not hang the whole gather.
if have timeout; then
    tmo() { timeout -k 2 "$TMO_S" "$@"; }
else
    tmo() { "$@"; }
fi

begin() {
    : >"$ERR"
    printf '\n--%s K\n%s\n--%s H\n%s\n--%s O\n' "$TOK" "$1" "$TOK" "$2" "$TOK"
}

# end RC STATUS: status is ok | missing | error; stderr collected in $ERR follows.
end() {
    if [ "$1" = 124 ]; then printf 'timed out after %s s\n' "$TMO_S" >>"$ERR"; fi
    printf '\n--%s E %s %s\n' "$TOK" "$1" "$2"
    if [ -s "$ERR" ]; then cat "$ERR"; fi  # test is a builtin: no process for the usual empty stderr
    printf '\n--%s Z\n' "$TOK"
}

# cmd_section KEY HOW CMD...: CMD's stdout is the probe text.
cmd_section() {
    key=$1 how=$2
    shift 2
    begin "$key" "$how"
    if ! have "$1"; then
        printf '%s: command not found\n' "$1" >"$ERR"
        end 127 missing
        return
    fi
    tmo "$@" </dev/null 2>"$ERR"
    rc=$?
    if [ "$rc" = 0 ]; then end 0 ok; else end "$rc" error; fi
}

# file_section PATH: regular files only (a FIFO or device would block or never end), at most MAXB
# bytes. The checks and the read run under one timeout (a dead NFS mount hangs even stat), as one
# `timeout sh -c ... exec head` chain: three processes a file. The text goes straight out; one over
# the cap (MAXB+1 bytes read) is turned into an error by preflight.gather.script (cap_files).
file_section() {
    begin "file:$1" "cat $1"
    # shellcheck disable=SC2016 # $1/$2 are the inner shell's
    tmo sh -c '[ -e "$1" ] || exit 3; [ -d "$1" ] && exit 4; [ -f "$1" ] || exit 5; exec head -c "$2" -- "$1"' \
        - "$1" $((MAXB + 1)) </dev/null 2>"$ERR"
    rc=$?
    case $rc in
    0) end 0 ok ;;
    3) printf '%s: No such file or directory\n' "$1" >"$ERR"; end 1 missing ;;
    4) printf '%s: is a directory\n' "$1" >"$ERR"; end 1 error ;;
    5) printf '%s: not a regular file\n' "$1" >"$ERR"; end 1 error ;;  # -f follows symlinks
    *) end "$rc" error ;;
    esac
}

# sshd_include_patterns FILE: the Include patterns of FILE, one a line, made absolute (relative ones are
# under /etc/ssh). Gather-only mirror of preflight/parsers/sshd_tokens.py (sshd's strdelim and argv_split:
# quotes, "Include=...", '#' words end the line); the parser is the one place that decides what they mean.
sshd_include_patterns() {
    tmo awk '
    function strdelim(    c, s2, q) {  # token of S into TOK (TOKNULL when none), rest into S (SNULL)
        TOKNULL = 0
        if (SNULL) { TOKNULL = 1; return }
        if (!match(S, /[ \t\r\n"=]/)) { TOK = S; SNULL = 1; return }
        c = substr(S, RSTART, 1)
        if (c == "\"") {
            s2 = substr(S, 1, RSTART - 1) substr(S, RSTART + 1)
            q = index(substr(s2, RSTART), "\"")
            if (!q) { TOKNULL = 1; SNULL = 1; return }
            TOK = substr(s2, 1, RSTART + q - 2)
            S = substr(s2, RSTART + q); sub(/^[ \t\r\n]+/, "", S)
            return
        }
        TOK = substr(S, 1, RSTART - 1)
        S = substr(S, RSTART + 1); sub(/^[ \t\r\n]+/, "", S)
        if (c != "=" && substr(S, 1, 1) == "=") { S = substr(S, 2); sub(/^[ \t\r\n]+/, "", S) }
    }
    function argv_split(s,    n, i, c, nx, q, arg) {
        NARGS = 0; i = 1; n = length(s)
        while (i <= n) {
            c = substr(s, i, 1)
            if (c == " " || c == "\t") { i++; continue }
            if (c == "#") break
            q = ""; arg = ""
            while (i <= n) {
                c = substr(s, i, 1)
                if (c == "\\") {
                    nx = substr(s, i + 1, 1)
                    if (nx == "\047" || nx == "\"" || nx == "\\" || (q == "" && nx == " ")) { i++; arg = arg nx }
                    else arg = arg c
                } else if (q == "" && (c == " " || c == "\t")) break
                else if (q == "" && (c == "\"" || c == "\047")) q = c
                else if (q != "" && c == q) q = ""
                else arg = arg c
                i++
            }
            if (i > n && q != "") return -1
            ARGS[++NARGS] = arg
            if (i > n) break
            i++
        }
        return NARGS
    }
    {
        line = $0; sub(/^[ \t\r]+/, "", line)
        if (line == "" || substr(line, 1, 1) == "#") next
        probe = tolower(line); gsub(/"/, "", probe)
        if (!index(probe, "include")) next  # the keyword, quotes removed, is in every Include line
        sub(/[ \t\r\n\f]+$/, "", line)
        S = line; SNULL = 0
        strdelim()
        if (!TOKNULL && TOK == "") strdelim()
        if (TOKNULL || tolower(TOK) != "include" || SNULL || S == "") next
        if (argv_split(S) < 0) next
        for (k = 1; k <= NARGS; k++) {
            if (ARGS[k] == "") break
            if (substr(ARGS[k], 1, 1) == "/") print ARGS[k]
            else if (substr(ARGS[k], 1, 1) != "~") print "/etc/ssh/" ARGS[k]
        }
    }' "$1" </dev/null 2>/dev/null
}

# sshd_includes FILE DEPTH: the files FILE Includes, in sshd's reading order (depth first, each glob
# sorted), each listed once, at most 256 in all, none deeper than sshd's 16 levels; what could not be
# expanded (a directory it cannot list, a match that is not a regular file, a chain past depth 16, the
# cap) goes to $W/sshd-notes as "!PATTERN<TAB>REASON". Gather-only mirror of preflight/parsers/sshd.py
# walk_includes: the parser re-globs over what was gathered, follows every Include path itself and
# turns each note into an error (never a silent pass). Bounded even for Include loops.
# sshd_note PATTERN REASON: one note per pattern, the first reason (as walk_includes keeps it).
sshd_note() {
    if ! grep -Fq -- "!$1$tab" "$W/sshd-notes"; then printf '!%s%s%s\n' "$1" "$tab" "$2" >>"$W/sshd-notes"; fi
}

sshd_includes() (
    tab=$(printf '\t')
    ifs=$IFS
    sshd_include_patterns "$1" >"$W/sshd-pats.$2"
    while IFS= read -r pat; do
        case $pat in
            *\\*)
                sshd_note "$pat" "a backslash in the pattern: not gathered"
                continue ;;
        esac
        prefix=${pat%%[*?[]*}
        dir=${prefix%/*}
        if [ -d "${dir:-/}" ] && { [ ! -r "${dir:-/}" ] || [ ! -x "${dir:-/}" ]; }; then
            sshd_note "$pat" "cannot list ${dir:-/}: Permission denied"
            continue
        fi
        IFS=  # a quoted pattern may hold spaces: expand it as one word
        for f in $pat; do
            IFS=$ifs
            if [ ! -e "$f" ] && [ ! -L "$f" ]; then continue; fi  # no match: the pattern itself
            if [ -d "$f" ]; then continue; fi  # sshd reads a directory as empty
            why=
            case $f in *"
"*) why="a file name with a newline" ;; esac
            if [ -z "$why" ] && [ ! -f "$f" ]; then why="not a regular file: $f"; fi
            if [ -z "$why" ] && grep -Fxq -- "$f" "$W/sshd-seen"; then continue; fi
            if [ -z "$why" ] && [ "$2" -ge 16 ]; then why="Too many recursive configuration includes"; fi
            if [ -z "$why" ] && [ "$(wc -l <"$W/sshd-seen")" -ge 256 ]; then why="more than 256 files: gathering stopped"; fi
            if [ -n "$why" ]; then
                sshd_note "$pat" "$why"
                continue
            fi
            printf '%s\n' "$f" >>"$W/sshd-seen"
            printf '%s\n' "$f"
            sshd_includes "$f" $(($2 + 1))
        done
        IFS=$ifs
    done <"$W/sshd-pats.$2"
)

sshd_files() {
    main=/etc/ssh/sshd_config
    begin sshd-files "sshd_config and its Include targets"
    if [ -f "$main" ]; then
        printf '%s\n' "$main"
        printf '%s\n' "$main" >"$W/sshd-seen"
        : >"$W/sshd-notes"
        sshd_includes "$main" 0 >"$W/sshd-files"
        cat "$W/sshd-files" "$W/sshd-notes"
        end 0 ok
    else
        : >"$W/sshd-files"
        printf '%s: No such file or directory\n' "$main" >"$ERR"
        end 1 missing
    fi
    while IFS= read -r f; do file_section "$f"; done <"$W/sshd-files"
}

hostname_sections() {
    if have hostname; then
        cmd_section cmd:hostname hostname hostname
    else
        cmd_section cmd:hostname "uname -n" uname -n
    fi
    cmd_section cmd:hostname-f "hostname -f" hostname -f
    if have ip; then
        cmd_section cmd:addresses "ip -o addr show" ip -o addr show
    else
        cmd_section cmd:addresses "hostname -I" hostname -I
    fi
}

sshd_sections() {
    cmd_section cmd:sshd-T "sshd -T" sshd -T
    begin cmd:sshd-version "sshd -V"
    if ! have sshd; then
        echo "sshd: command not found" >"$ERR"
        end 127 missing
        return
    fi
    # Old sshd has no -V but prints its version before the usage text; take that line either way.
    tmo sshd -V </dev/null >"$OUT" 2>&1
    rc=$?
    if grep -m 1 '^OpenSSH' "$OUT"; then
        end 0 ok
    else
        cat "$OUT" >"$ERR"
        end "$rc" error
    fi
}

PKGS="libvirt-daemon libvirt-daemon-common libvirt-daemon-system libvirt-daemon-driver-qemu
qemu-kvm qemu-kvm-core qemu-kvm-ev qemu-kvm-rhev qemu-system-x86 openssh-server libvirt-libs libvirt0"

packages_section() {
    TAB=$(printf '\t')
    if have dpkg-query && [ -f /var/lib/dpkg/status ]; then
        begin cmd:packages "dpkg-query -W"
        # shellcheck disable=SC2086 # word splitting of the list is wanted
        dpkg-query -W -f='${Package}\t${Version}\t${Status}\n' $PKGS </dev/null >"$OUT" 2>"$ERR"
        rc=$?
        # rc 1 only means some names are unknown; "rc" status lines are removed packages.
        awk -F "$TAB" '$3 ~ / installed$/ { print $1 "\t" $2 }' "$OUT"
        if [ "$rc" -le 1 ]; then end "$rc" ok; else end "$rc" error; fi
    elif have rpm; then
        begin cmd:packages "rpm -q"
        # shellcheck disable=SC2086
        rpm -q --qf '%{NAME}\t%{VERSION}-%{RELEASE}\n' $PKGS </dev/null >"$OUT" 2>"$ERR"
        rc=$?
        grep "$TAB" "$OUT"
        # rpm's rc counts the names not installed; an empty answer means rpm itself failed.
        if [ -s "$OUT" ]; then end "$rc" ok; else end "$rc" error; fi
    else
        begin cmd:packages "rpm -q / dpkg-query -W"
        echo "neither rpm nor dpkg-query found" >"$ERR"
        end 127 missing
    fi
}

RUNNING=
daemon_state() {  # daemon -> "state<TAB>how"
    d=$1
    if [ -d /run/systemd/system ] && have systemctl; then
        if systemctl is-active --quiet "$d.service" </dev/null 2>/dev/null; then
            printf 'running\tsystemd'
            return
        fi
        for s in "$d.socket" "$d-ro.socket" "$d-admin.socket" "$d-tcp.socket" "$d-tls.socket"; do
            if systemctl is-active --quiet "$s" </dev/null 2>/dev/null; then
                printf 'socket\tsystemd'
                return
            fi
        done
        printf 'stopped\tsystemd'
        return
    fi
    pidfile=
    for f in "/run/$d.pid" "/var/run/$d.pid"; do
        if [ -f "$f" ]; then
            pidfile=$f
            break
        fi
    done
    if [ -n "$pidfile" ]; then
        pid=$(head -n 1 "$pidfile" 2>/dev/null)
        # comm must match too: a stale pid file may name a reused pid
        if [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$d" ]; then
            printf 'running\tpidfile'
            return
        fi
    fi
    if have pidof; then
        if pidof "$d" >/dev/null 2>&1; then printf 'running\tpidof'; else printf 'stopped\tpidof'; fi
        return
    fi
    if [ -n "$pidfile" ]; then
        printf 'stopped\tpidfile'
        return
    fi
    case $d in virtqemud) sock=/run/libvirt/virtqemud-sock ;; *) sock=/run/libvirt/libvirt-sock ;; esac
    if [ -S "$sock" ]; then printf 'running\tsocket'; else printf 'stopped\tsocket'; fi
}

daemons_section() {
    begin cmd:daemons "systemctl is-active / pid files / pidof / sockets"
    for d in libvirtd virtqemud virtproxyd; do
        st=$(daemon_state "$d")
        printf '%s\t%s\n' "$d" "$st"
        case $st in running*) RUNNING="$RUNNING $d" ;; esac
    done
    end 0 ok
}

virt_admin_sections() {
    for d in $RUNNING; do
        uri="$d:///system"
        begin "cmd:virt-admin:$d" "virt-admin -c $uri srv-clients-info $d; srv-threadpool-info $d"
        if ! have virt-admin; then
            echo "virt-admin: command not found" >"$ERR"
            end 127 missing
            continue
        fi
        # one virt-admin process runs both commands (its shell takes "cmd; cmd")
        tmo virt-admin -c "$uri" "srv-clients-info $d; srv-threadpool-info $d" </dev/null 2>"$ERR"
        rc=$?
        if [ "$rc" = 0 ]; then end 0 ok; else end "$rc" error; fi
    done
}

getent_section() {
    begin "cmd:getent:$1" "getent ahosts $1"
    case $1 in
    -*)
        echo "refusing a name that looks like an option" >"$ERR"
        end 2 error
        return
        ;;
    esac
    tmo getent ahosts "$1" </dev/null 2>"$ERR"
    rc=$?
    # rc 2 is getent's "no such name": an answer, not a failure.
    case $rc in
    0) end 0 ok ;;
    2)
        echo "not found" >>"$ERR"
        end 2 ok
        ;;
    *) end "$rc" error ;;
    esac
}

path_section() {
    begin "cmd:path:$1" "realpath, stat -L, head -c 65536 | sha256sum"
    tmo test -e "$1" 2>"$ERR"
    rc=$?
    if [ "$rc" = 1 ]; then
        printf '%s: No such file or directory\n' "$1" >"$ERR"
        end 1 missing
        return
    elif [ "$rc" != 0 ]; then
        end "$rc" error
        return
    fi
    rp=$(tmo realpath -- "$1" 2>/dev/null || tmo readlink -f -- "$1" 2>/dev/null) || rp=$1
    st=$(tmo stat -L -c '%d %i %s %Y %Z' -- "$1" 2>>"$ERR")
    rc=$?
    if [ "$rc" != 0 ]; then
        end "$rc" error
        return
    fi
    # via a file, not a pipe: a failed or timed-out read must give "-", not the hash of nothing
    sha=
    hdr=
    if tmo head -c 65536 -- "$1" </dev/null >"$W/head" 2>>"$ERR"; then
        sha=$(sha256sum <"$W/head" 2>>"$ERR")
        sha=${sha%% *}
        # the first 32 bytes in hex: an image's format (qcow2 magic) and virtual size
        hdr=$(od -An -v -tx1 -N32 <"$W/head" 2>>"$ERR" | tr -d ' \n')
    fi
    # shellcheck disable=SC2086 # st is five numbers
    set -- $st
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$rp" "$1" "$2" "$3" "$4" "$5" "${sha:--}" "$hdr"
    end 0 ok
}

# space_section DIR: free space where a copied disk would be created (--copy-storage-*): "avail<TAB>BYTES"
# (`stat -f`: blocks available to non-root times the fundamental block size).
space_section() {
    begin "cmd:space:$1" "stat -f -c '%a %S' DIR"
    if [ ! -d "$1" ]; then
        if [ -e "$1" ]; then printf '%s: not a directory\n' "$1" >"$ERR"; else printf '%s: No such file or directory\n' "$1" >"$ERR"; fi
        end 1 missing
        return
    fi
    st=$(tmo stat -f -c '%a %S' -- "$1" 2>>"$ERR")
    rc=$?
    if [ "$rc" != 0 ]; then
        end "$rc" error
        return
    fi
    case $st in *[!0-9\ ]* | '') echo "stat -f: unexpected output" >>"$ERR"; end 1 error; return ;; esac
    # shellcheck disable=SC2086 # two numbers
    set -- $st
    printf 'avail\t%s\n' "$(($1 * $2))"
    end 0 ok
}

# emulator_section PATH: does the guest's emulator exist here and run? `-version` has no side effects.
emulator_section() {
    begin "cmd:emulator:$1" "$1 -version (first line)"
    # only an absolute path named like QEMU (preflight.view.guests.runnable_emulator): the path is the guest XML's
    ok=
    case $1 in */../* | */..) ;; /*) case ${1##*/} in qemu* | kvm) ok=1 ;; esac ;; esac
    if [ -z "$ok" ]; then echo "refusing to run a path not named qemu* or kvm" >"$ERR"; end 2 error; return; fi
    if [ ! -e "$1" ]; then
        printf '%s: No such file or directory\n' "$1" >"$ERR"
        end 1 missing
        return
    fi
    if [ ! -f "$1" ] || [ ! -x "$1" ]; then
        printf '%s: not an executable file\n' "$1" >"$ERR"
        end 126 error
        return
    fi
    # What this binary offers, asked of it rather than of libvirt's cache (machine types, accelerators):
    # asked while -version runs (each QEMU start is ~10-40 ms; none has side effects), kept only if it ran.
    EN=$((EN + 1))
    e=$W/emu.$EN
    ( ERR=$e.m.err OUT=$e.m.out; emulator_help "cmd:emulator-machines:$1" "$1" -machine help ) >"$e.m" 2>/dev/null &
    pm=$!
    ( ERR=$e.a.err OUT=$e.a.out; emulator_help "cmd:emulator-accels:$1" "$1" -accel help ) >"$e.a" 2>/dev/null &
    pa=$!
    tmo "$1" -version </dev/null >"$OUT" 2>>"$ERR"
    rc=$?
    wait "$pm" "$pa"
    if [ "$rc" = 0 ]; then
        head -n 1 <"$OUT"
        end 0 ok
        cat "$e.m" "$e.a"
    else
        end "$rc" error
    fi
}

emulator_help() {  # emulator_help KEY PATH ARG...: the binary's own list, no side effects
    k=$1
    shift
    begin "$k" "$*"
    tmo "$@" </dev/null >"$OUT" 2>>"$ERR"
    rc=$?
    if [ "$rc" = 0 ]; then
        head -c 262144 <"$OUT"
        end 0 ok
    else
        end "$rc" error
    fi
}

# kvm_section: /dev/kvm a character device, the kvm module loaded, /dev/kvm's mode and owner.
kvm_section() {
    begin cmd:kvm "test -c /dev/kvm, /sys/module/kvm, stat -L -c '%a %U %G' and '%t:%T' /dev/kvm"
    if [ -c /dev/kvm ]; then d=char; elif [ -e /dev/kvm ]; then d=other; else d=absent; fi
    if [ -d /sys/module/kvm ]; then m=present; else m=absent; fi
    st=-
    if [ -e /dev/kvm ]; then st=$(tmo stat -L -c '%a %U %G' -- /dev/kvm 2>>"$ERR") || st=-; fi
    # which character device it is: KVM is misc 10:232 (a:e8); /dev/null bound over it is a char device too
    rd=-
    if [ "$d" = char ]; then rd=$(tmo stat -L -c '%t:%T' -- /dev/kvm 2>>"$ERR") || rd=-; fi
    printf 'dev\t%s\nmodule\t%s\nmode\t%s\nrdev\t%s\n' "$d" "$m" "$st" "$rd"
    end 0 ok
}

# cpumap_section: the x86 models of the host's libvirt CPU map, read from the files its index.xml
# includes (by a safe name only: x86_NAME.xml in that directory), or from the one cpu_map.xml of
# libvirt before 4.7 (RHEL 7; its <arch name='x86'> only), one line each, comments dropped:
# "model NAME VENDOR|- BASE|- FEATURE..." (removed='yes' features left out, as libvirt leaves them
# out of the model), then "vendors NAME..." and "features NAME..." (every feature name the map knows).
cpumap_section() {
    cm=/usr/share/libvirt/cpu_map
    begin cmd:cpumap "awk over the x86_*.xml files $cm/index.xml includes (or $cm.xml)"
    if [ -f "$cm/index.xml" ]; then
        # shellcheck disable=SC2046 # the names are [A-Za-z0-9._-] only: one word each, no glob characters
        set -- $(tmo sed -n 's/^[ 	]*<include filename=.\(x86_[A-Za-z0-9._-]*\.xml\).*/\1/p' "$cm/index.xml" 2>>"$ERR")
        if [ $# = 0 ]; then
            printf '%s/index.xml: includes no x86 file\n' "$cm" >>"$ERR"
            end 1 error
            return
        fi
        cmdir=$cm old=0
    elif [ -f "$cm.xml" ]; then
        set -- cpu_map.xml
        cmdir=${cm%/*} old=1
    else
        printf '%s/index.xml: No such file or directory (nor %s.xml)\n' "$cm" "$cm" >"$ERR"
        end 1 missing
        return
    fi
    (cd "$cmdir" && tmo awk -v old="$old" '
    function attr(s, a) {  # a safe name attribute, or ""
        if (!match(s, a "=[\047\"][A-Za-z0-9._-]+[\047\"]")) return ""
        return substr(s, RSTART + length(a) + 2, RLENGTH - length(a) - 3)
    }
    function flush() {
        if (model != "") print "model " model " " (mv == "" ? "-" : mv) " " (mb == "" ? "-" : mb) mf
        model = ""
    }
    FNR == 1 { flush(); inc = 0 }
    {
        line = $0; out = ""
        while (line != "") {  # drop comments, also those over several lines
            if (inc) { i = index(line, "-->"); if (!i) break; line = substr(line, i + 3); inc = 0 }
            else { i = index(line, "<!--"); if (!i) { out = out line; break }
                   out = out substr(line, 1, i - 1); line = substr(line, i + 4); inc = 1 }
        }
    }
    old && out ~ /<arch[ \t]/ { flush(); x86 = (attr(out, "name") == "x86"); next }
    old && out ~ /<\/arch>/ { flush(); x86 = 0; next }
    old && !x86 { next }
    out ~ /<model[ \t]/ {
        n = attr(out, "name")
        if (n == "") next
        if (model == "") { model = n; mv = ""; mb = ""; mf = ""; if (out ~ /\/>/) flush() }
        else mb = n
        next
    }
    out ~ /<\/model>/ { flush(); next }
    out ~ /<vendor[ \t]/ { n = attr(out, "name"); if (n == "") next
        if (model != "") mv = n; else vs = vs " " n; next }
    out ~ /<feature[ \t]/ { n = attr(out, "name"); if (n == "" || out ~ /removed=[\047"]yes[\047"]/) next
        if (model != "") mf = mf " " n; else fs = fs " " n; next }
    END { flush(); print "vendors" vs; print "features" fs }
    ' "$@" </dev/null) >"$OUT" 2>>"$ERR"
    rc=$?
    head -c $((MAXB + 1)) "$OUT"
    if [ "$rc" = 0 ]; then end 0 ok; else end "$rc" error; fi
}

# --- main: the order of sections is the order of the catalogue ---
EN=0  # emulator_section's counter (its temporary files)
ONLY_NAMES=
SECTIONS=
for a in "$@"; do
    case $a in
    t:*) TMO_S=${a#t:} ;;
    s:*) SECTIONS="$SECTIONS ${a#s:} " ;;
    c:*[!0-9]* | c:) ;;  # digits only: the value goes into $((...))
    c:*) MAXB=${a#c:} ;;
    x:names-only) ONLY_NAMES=1 ;;
    esac
done
# Independent groups run at once, each into its own file with its own ERR/OUT; the files are then
# printed in catalogue order. Slow commands (sshd -T, package queries, virt-admin, resolver, disk
# reads) overlap instead of adding up.
want() {  # want SECTION: selected by an s: argument, or no s: argument at all
    case $SECTIONS in "" | *" $1 "*) return 0 ;; esac
    return 1
}
job() {  # job N FUNCTION [ARG...]
    n=$1
    shift
    ( ERR=$W/err.$n OUT=$W/out.$n; "$@" ) >"$W/job.$n" 2>/dev/null &
}
files_job() {
    for a in "$@"; do
        case $a in f:*) file_section "${a#f:}" ;; esac
    done
    if want sshd-files; then sshd_files; fi
    if want hostname; then hostname_sections; fi
    if want mountinfo; then
        begin cmd:mountinfo "cat /proc/self/mountinfo"
        if cat /proc/self/mountinfo 2>"$ERR"; then end 0 ok; else end "$?" error; fi
    fi
    if want netdevs; then
        begin cmd:netdevs "ls /sys/class/net"
        if ls /sys/class/net 2>"$ERR"; then end 0 ok; else end "$?" error; fi
    fi
}
firewall_job() {
    cmd_section cmd:iptables-save "iptables-save -t filter" iptables-save -t filter
    cmd_section cmd:nft-ruleset "nft list ruleset" nft list ruleset
    begin cmd:firewalld "systemctl is-active / pid file / pidof firewalld"
    printf '%s\n' "$(daemon_state firewalld)"
    end 0 ok
}
pki_job() {
    begin cmd:listening "ss -Hltn (netstat -ltn)"
    if have ss; then
        tmo ss -Hltn </dev/null 2>"$ERR"
        rc=$?
    elif have netstat; then
        tmo netstat -ltn </dev/null 2>"$ERR"
        rc=$?
    else
        echo "ss: command not found" >"$ERR"
        rc=127
    fi
    case $rc in 0) end 0 ok ;; 127) end 127 missing ;; *) end "$rc" error ;; esac
    # private keys: mode and owner only, never the content; "-" absent, "?" its directory not searchable
    begin cmd:pki-keys "stat -L -c of the TLS private keys"
    for k in /etc/pki/libvirt/private/clientkey.pem /etc/pki/libvirt/private/serverkey.pem \
        /etc/pki/qemu/server-key.pem /etc/pki/qemu/client-key.pem; do
        if [ -e "$k" ]; then
            st=$(tmo stat -L -c '%a %U %G' -- "$k" 2>>"$ERR") || st='?'
        elif [ -x "${k%/*}" ] || [ ! -e "${k%/*}" ]; then
            st=-
        else
            st='?'
        fi
        printf '%s\t%s\n' "$k" "$st"
    done
    end 0 ok
}
daemons_job() {
    daemons_section
    virt_admin_sections
}
seen_absent() {  # seen_absent FILE: FILE's absence is seen (its directory searchable, or seen absent)
    d=${1%/*}
    [ -x "$d" ] || { [ -x "${d%/*}" ] && [ ! -e "$d" ]; }
}
# known_host_section NAME: does root's ssh on this host (libvirtd's, for --p2p; sudo virsh's) know
# NAME's host key, and which identity files has it? Lines "known_hosts<TAB>FILE<TAB>state" (found |
# absent | missing | unreadable) and "identity<TAB>FILE<TAB>state" (present | missing | unreadable).
known_host_section() {
    begin "cmd:known-host:$1" "ssh-keygen -F $1 -f FILE (root's and the global known_hosts)"
    case $1 in -*) echo "refusing a name that looks like an option" >"$ERR"; end 2 error; return ;; esac
    if ! have ssh-keygen; then echo "ssh-keygen: command not found" >"$ERR"; end 127 missing; return; fi
    for f in /root/.ssh/known_hosts /root/.ssh/known_hosts2 /etc/ssh/ssh_known_hosts /etc/ssh/ssh_known_hosts2; do
        if [ ! -e "$f" ] && seen_absent "$f"; then st=missing
        elif [ ! -r "$f" ] || [ ! -f "$f" ]; then st=unreadable
        elif tmo ssh-keygen -F "$1" -f "$f" </dev/null >/dev/null 2>>"$ERR"; then st=found
        else st=absent
        fi
        printf 'known_hosts\t%s\t%s\n' "$f" "$st"
    done
    for f in /root/.ssh/id_ed25519 /root/.ssh/id_ecdsa /root/.ssh/id_rsa; do
        if [ -e "$f" ]; then st=present
        elif seen_absent "$f"; then st=missing
        else st=unreadable
        fi
        printf 'identity\t%s\t%s\n' "$f" "$st"
    done
    end 0 ok
}
names_job() {
    for a in "$@"; do
        case $a in n:*) getent_section "${a#n:}"; known_host_section "${a#n:}" ;; esac
    done
}
paths_job() {
    for a in "$@"; do
        case $a in p:*) path_section "${a#p:}" ;; d:*) space_section "${a#d:}" ;; e:*) emulator_section "${a#e:}" ;; esac
    done
}
if [ -z "$ONLY_NAMES" ]; then
    job 1 files_job "$@"
    if want sshd; then job 2 sshd_sections; fi
    if want packages; then job 3 packages_section; fi
    if want daemons; then job 4 daemons_job; fi
    job 6 paths_job "$@"
    if want firewall; then job 7 firewall_job; fi
    if want pki; then job 8 pki_job; fi
    if want kvm; then job 9 kvm_section; fi
    if want cpumap; then job 10 cpumap_section; fi
fi
job 5 names_job "$@"
wait
for n in 1 2 3 4 5 6 7 8 9 10; do
    if [ -f "$W/job.$n" ]; then cat "$W/job.$n"; fi
done
printf '\n--%s DONE\n' "$TOK"
