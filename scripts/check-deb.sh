#!/usr/bin/env bash
# Checks the Debian package end to end on a fresh Debian 12 root (issue #18; packaging/README.md,
# "How the package is checked"):
#
#   scripts/check-deb.sh            # build the .deb, debootstrap bookworm, install, run, check
#   scripts/check-deb.sh --reuse    # keep the debootstrapped root of an earlier check (quicker)
#
# 1. scripts/build-deb.sh (release build, man pages, completions, cargo-deb).
# 2. debootstrap a minimal bookworm root into $CARGO_TARGET_DIR/deb-root (default target/),
#    from the mirror this machine's apt uses (DEBIAN_MIRROR overrides it). That root is never
#    changed: every check runs in a fresh overlay of it ($CARGO_TARGET_DIR/deb-run/root), so
#    --reuse is as clean as a new root.
# 3. Mounts proc, sys, dev and dev/pts there; a trap unmounts them on any exit.
# 4. `apt install ./dossier_*.deb` in the root (Depends and Recommends resolve from the mirror),
#    then dossier --version, man dossier, systemctl enable/is-enabled on the timer, the dossier
#    user and its folders.
# 5. A nightly run of the sample intake exactly as dossier-nightly.service starts it (ExecStart,
#    User=, Group=, UMask=, the log files opened before the user switch as systemd does), its
#    exit code against SuccessExitStatus=, the lines in the log, then logrotate's rotation of
#    that log and apt purge.
#
# Needs root (debootstrap, chroot, mount) and the build dependencies. Prints each step's time;
# exits non-zero with a "check-deb: FAILED" line at the first failure.
# shellcheck disable=SC2001 # sed indents multi-line output
# shellcheck disable=SC2016 # dpkg-query's own ${Status} and ${Version}, not the shell's
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
target=${CARGO_TARGET_DIR:-$repo/target}
base=$target/deb-root
run=$target/deb-run
root=$run/root

fail() {
  said=true
  echo "check-deb: FAILED${step_name:+ in step $step_name}: $*" >&2
  exit 1
}

reuse=false
for arg in "$@"; do
  case $arg in
    --reuse) reuse=true ;;
    -h | --help)
      sed -n '2,23p' "$0"
      exit 0
      ;;
    *) fail "unknown option $arg (see --help)" ;;
  esac
done
[ "$(id -u)" = 0 ] || fail "needs root: debootstrap, chroot and mount"

# --- steps and their times ---------------------------------------------------------------
step_name=
step_start=
times=()
begin() {
  step_name=$1
  step_start=$EPOCHREALTIME
  echo "== step $step_name"
}
done_step() {
  local took
  took=$(awk -v a="$step_start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
  times+=("$(printf '%-40s %7s s' "$step_name" "$took")")
  echo "   ok ($took s)"
  step_name=
}
total_start=$EPOCHREALTIME

# --- mounts, undone on every exit ----------------------------------------------------------
mounted=()
mount_in() { # mount ARGS... TARGET; remembered for the trap
  mount "$@"
  mounted+=("${*: -1}")
}
unmount_all() {
  local i
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
    umount "${mounted[i]}" 2>/dev/null || umount -l "${mounted[i]}" ||
      echo "check-deb: could not unmount ${mounted[i]}" >&2
  done
  mounted=()
}
on_exit() {
  local rc=$?
  unmount_all
  if [ "$rc" != 0 ] && [ -n "$step_name" ] && [ "${said:-}" != true ]; then
    echo "check-deb: FAILED in step $step_name (exit $rc; the command above says why)" >&2
  fi
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Deleting a folder that still has something mounted in it would delete the host's /dev.
no_mounts_under() {
  if findmnt -rn -o TARGET | grep -q "^$1\(/\|$\)"; then
    fail "something is still mounted under $1 (findmnt | grep $1): unmount it first"
  fi
}

# A command in the root, with the clean environment a root shell there would have.
in_root() {
  chroot "$root" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"
}

# --- 1. the package ------------------------------------------------------------------------
begin "1 build the .deb"
nice -n 10 scripts/build-deb.sh >"$target/check-deb-build.log" 2>&1 ||
  fail "scripts/build-deb.sh failed: see $target/check-deb-build.log"
deb=$(tail -n 1 "$target/check-deb-build.log")
[ -f "$deb" ] || fail "scripts/build-deb.sh did not name a .deb (last line: $deb)"
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
commit=${DOSSIER_GIT_COMMIT:-$(git rev-parse --short=12 HEAD)}
echo "   $deb (version $version, commit $commit)"
done_step

# --- 2. a Debian 12 root ----------------------------------------------------------------------
begin "2 debootstrap bookworm"
# The mirror this machine's apt uses for bookworm (deb822 .sources or one-line .list files),
# and its security mirror, so that the root sees the same archive as the build machine.
host_uri() { # SUITE → the first URI that serves it
  local suite=$1
  {
    for f in /etc/apt/sources.list.d/*.sources; do
      [ -f "$f" ] || continue
      awk -v s="$suite" '
        /^[ \t]*$/ { if (ok && uri != "") { print uri; exit } ok = 0; uri = ""; next }
        /^URIs:/ { uri = $2 }
        /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == s) ok = 1 }
        /^Enabled:[ \t]*no/ { ok = 0; uri = "" }
        END { if (ok && uri != "") print uri }' "$f"
    done
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
      [ -f "$f" ] || continue
      awk -v s="$suite" '$1 == "deb" { i = 2; if ($2 ~ /^\[/) while ($i !~ /\]$/) i++; if ($2 ~ /^\[/) i++;
        if ($(i + 1) == s) { print $i; exit } }' "$f"
    done
  } | head -n 1
}
mirror=${DEBIAN_MIRROR:-$(host_uri bookworm)}
[ -n "$mirror" ] || fail "no bookworm mirror in /etc/apt/sources.list*: set DEBIAN_MIRROR"
security=$(host_uri bookworm-security)
if $reuse && [ -x "$base/usr/bin/apt-get" ]; then
  echo "   reusing $base (debootstrapped $(date -r "$base/var/lib/dpkg/status" '+%F %R'))"
else
  command -v debootstrap >/dev/null || apt-get install -y -q debootstrap >/dev/null ||
    fail "cannot install debootstrap (apt-get install debootstrap)"
  no_mounts_under "$base"
  rm -rf --one-file-system "$base" "$base.new"
  # Into a new folder first: an interrupted debootstrap never passes for a root to reuse.
  nice -n 10 debootstrap --variant=minbase bookworm "$base.new" "$mirror" \
    >"$target/check-deb-debootstrap.log" 2>&1 ||
    fail "debootstrap failed: see $target/check-deb-debootstrap.log"
  mv "$base.new" "$base"
fi
echo "   $base from $mirror${security:+ (security: $security)}"
done_step

# --- 3. a fresh overlay of it, mounted --------------------------------------------------------
begin "3 mount the root"
no_mounts_under "$run"
rm -rf --one-file-system "$run"
mkdir -p "$run/upper" "$run/work" "$root"
mount_in -t overlay overlay -o "lowerdir=$base,upperdir=$run/upper,workdir=$run/work" "$root"
mount_in -t proc proc "$root/proc"
mount_in -t sysfs sysfs "$root/sys"
mount_in --bind /dev "$root/dev"
mount_in --bind /dev/pts "$root/dev/pts"
{
  echo "deb $mirror bookworm main"
  echo "deb $mirror bookworm-updates main"
  [ -z "$security" ] || echo "deb $security bookworm-security main"
} >"$root/etc/apt/sources.list"
cat /etc/resolv.conf >"$root/etc/resolv.conf"
# No daemon starts in a chroot (Debian's policy-rc.d convention).
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"
echo "   $root"
done_step

# --- 4. install and look --------------------------------------------------------------------
begin "4 apt install ./dossier.deb"
cp "$deb" "$root/root/"
debname=$(basename "$deb")
in_root apt-get update -q >"$run/apt.log" 2>&1 || fail "apt-get update in the root: see $run/apt.log"
# As the README tells an administrator: apt resolves Depends and installs Recommends.
in_root sh -c "cd /root && apt install -y -q ./$debname" >>"$run/apt.log" 2>&1 ||
  fail "apt install ./$debname: see $run/apt.log"
for package in dossier libtesseract5 tesseract-ocr-vie tesseract-ocr-osd tesseract-ocr-eng fonts-liberation2; do
  state=$(in_root dpkg-query -W -f '${Status}' "$package" 2>/dev/null || true)
  [ "$state" = "install ok installed" ] || fail "$package is not installed ($state)"
done
# Stripped: the release profile's line tables go to the -dbgsym .ddeb (Cargo.toml, dbgsym).
if readelf -S --wide "$root/usr/bin/dossier" | grep -qE '\.debug_(info|line|str|abbrev) '; then
  fail "/usr/bin/dossier carries debug sections: the package is not stripped"
fi
echo "   $(in_root dpkg-query -W -f '${Package} ${Version}, Installed-Size ${Installed-Size} KiB' dossier), stripped"
# The Depends are the whole runtime: on a minimal root, no library is missing.
missing=$(in_root ldd /usr/bin/dossier | grep 'not found' || true)
[ -z "$missing" ] || fail "/usr/bin/dossier misses libraries the package does not depend on: $missing"
done_step

begin "4 dossier --version"
version_text=$(in_root dossier --version) || fail "dossier --version exits non-zero"
echo "$version_text" | sed 's/^/   | /'
first=$(echo "$version_text" | head -n 1)
[ "$first" = "dossier $version" ] || fail "first line is '$first', not 'dossier $version'"
echo "$version_text" | grep -qx "commit $commit" || fail "--version does not name commit $commit"
echo "$version_text" | grep -Eq '^tesseract 5\.' || fail "--version names no Tesseract 5"
echo "$version_text" | grep -qx 'tessdata /usr/share/tesseract-ocr/5/tessdata' ||
  fail "--version does not find Debian's tessdata folder"
langs=$(echo "$version_text" | sed -n 's/^languages //p')
for lang in vie osd eng; do
  [[ " $langs " == *" $lang "* ]] || fail "--version lists languages '$langs', without $lang"
done
done_step

begin "4 man, timer, user, folders"
# A server has these (priority important or standard); installed after dossier so that none
# of their libraries could have hidden one dossier needs.
in_root apt-get install -y -q man-db systemd logrotate >>"$run/apt.log" 2>&1 ||
  fail "apt-get install man-db systemd logrotate: see $run/apt.log"
for page in dossier dossier-run; do
  man_text=$(in_root man -P cat "$page" 2>/dev/null) || fail "man $page finds no page"
  echo "$man_text" | grep -q '^NAME' || fail "man $page has no NAME section"
  echo "$man_text" | grep -A1 '^NAME' | grep -q "$page" || fail "man $page's NAME does not name it"
done
echo "   man dossier: $(in_root man -P cat dossier 2>/dev/null | grep -A1 '^NAME' | tail -n 1 | xargs)"
in_root systemctl enable dossier-nightly.timer >>"$run/apt.log" 2>&1 ||
  fail "systemctl enable dossier-nightly.timer: see $run/apt.log"
enabled=$(in_root systemctl is-enabled dossier-nightly.timer 2>&1 || true)
[ "$enabled" = enabled ] || fail "systemctl is-enabled dossier-nightly.timer says '$enabled'"
[ -L "$root/etc/systemd/system/timers.target.wants/dossier-nightly.timer" ] ||
  fail "enable made no timers.target.wants link"
echo "   dossier-nightly.timer: $enabled"
verify=$(in_root systemd-analyze verify /lib/systemd/system/dossier-nightly.service \
  /lib/systemd/system/dossier-nightly.timer 2>&1) || fail "systemd-analyze verify: $verify"
[ -z "$verify" ] || echo "$verify" | sed 's/^/   systemd-analyze verify: /'
user=$(in_root getent passwd dossier) || fail "no user dossier"
echo "   $user"
[ "$(echo "$user" | cut -d: -f6,7)" = /var/lib/dossier:/usr/sbin/nologin ] ||
  fail "user dossier: home and shell are not /var/lib/dossier and nologin: $user"
[ "$(echo "$user" | cut -d: -f3)" -lt 1000 ] || fail "user dossier is not a system user: $user"
for want in "/var/log/dossier dossier:dossier 750" "/var/lib/dossier dossier:dossier 700"; do
  read -r path _ <<<"$want"
  got="$path $(in_root stat -c '%U:%G %a' "$path" 2>/dev/null || echo missing)"
  [ "$got" = "$want" ] || fail "$got, not $want"
  echo "   $got"
done
done_step

# --- 5. a night ----------------------------------------------------------------------------
begin "5 nightly run"
# The scanners' share: the sample intake, register and catalog, readable by user dossier
# (owned by root, as a share mounted for it would be), written an hour ago (settle_seconds).
share=$root/srv/dossier
mkdir -p "$share"
cp -r samples/intake "$share/intake"
cp samples/register.csv samples/procedures.csv "$share/"
chown -R 0:0 "$share"
chmod -R u=rwX,go=rX "$share"
find "$share" -exec touch -d '1 hour ago' {} +
# The administrator's edit of the conffile: the intake, the archive and the register.
conf=$root/etc/dossier/pipeline.toml
sed -i -E \
  -e 's|^intake = "[^"]*"|intake = "/srv/dossier/intake"|' \
  -e 's|^archive = "[^"]*"|archive = "/var/lib/dossier/archive"|' \
  -e 's|^# (\[register\]\|\[catalog\])$|\1|' \
  -e 's|^# (path = "/srv/dossier/[a-z]*\.csv")$|\1|' "$conf"
for line in 'intake = "/srv/dossier/intake"' 'archive = "/var/lib/dossier/archive"' \
  '[register]' 'path = "/srv/dossier/register.csv"' 'path = "/srv/dossier/procedures.csv"'; do
  grep -qF "$line" "$conf" || fail "could not set '$line' in /etc/dossier/pipeline.toml"
done

# The service as systemd starts it, read from the installed unit. Every key of [Service] must
# be one this emulation knows, so a new key in the unit cannot pass unchecked.
unit=$root/lib/systemd/system/dossier-nightly.service
[ -f "$unit" ] || fail "no /lib/systemd/system/dossier-nightly.service"
key() { # KEY → its value in [Service] (the last one wins, as in systemd)
  awk -v k="$1" '/^\[/ { s = $0 } s == "[Service]" && index($0, k "=") == 1 {
    v = substr($0, length(k) + 2) } END { print v }' "$unit"
}
unknown=$(awk -F= '/^\[/ { s = $0; next } s == "[Service]" && /^[A-Za-z]/ { print $1 }' "$unit" |
  grep -vxE 'Type|User|Group|ExecStart|SuccessExitStatus|ExecStopPost|StandardOutput|StandardError|UMask|Nice|IOSchedulingClass' || true)
[ -z "$unknown" ] || fail "the unit has keys this check does not emulate: ${unknown//$'\n'/ }"
svc_user=$(key User)
svc_group=$(key Group)
exec_start=$(key ExecStart)
umask_value=$(key UMask)
nice_value=$(key Nice)
[ "$(key Type)" = oneshot ] || fail "the unit is not Type=oneshot"
if [ -z "$svc_user" ] || [ -z "$svc_group" ] || [ -z "$exec_start" ]; then
  fail "no User=, Group= or ExecStart="
fi
case $exec_start in [-@+!:]*) fail "ExecStart= has a prefix this check does not emulate: $exec_start" ;; esac
output_path() { # StandardOutput= or StandardError= → the file systemd appends to
  case $1 in
    append:/*) echo "${1#append:}" ;;
    *) fail "Standard output '$1' is not append:PATH (the check looks for the run's lines there)" ;;
  esac
}
out_log=$(output_path "$(key StandardOutput)")
err_log=$(output_path "$(key StandardError)")
success_codes="0 $(key SuccessExitStatus)"
case $(key IOSchedulingClass) in
  idle) ionice='ionice -c 3' ;;
  '') ionice= ;;
  *) fail "IOSchedulingClass=$(key IOSchedulingClass) is not emulated" ;;
esac
echo "   ExecStart=$exec_start as $svc_user:$svc_group, UMask=$umask_value, Nice=$nice_value, log $out_log"
lines_before=0
[ ! -f "$root$out_log" ] || lines_before=$(wc -l <"$root$out_log")
home=$(in_root getent passwd "$svc_user" | cut -d: -f6)
shell=$(in_root getent passwd "$svc_user" | cut -d: -f7)
# systemd, as root: umask, the stdout/stderr files opened (created as root when missing,
# systemd issue #14385), the working directory / (the default), the environment it gives a
# service with User=; then the user switch and the command.
set +e
in_root /bin/sh -c "umask ${umask_value:-0022}
  cd /
  exec >>'$out_log' 2>>'$err_log' </dev/null
  exec env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin HOME='$home' \
    USER='$svc_user' LOGNAME='$svc_user' SHELL='$shell' \
    nice -n '${nice_value:-0}' $ionice setpriv --reuid='$svc_user' --regid='$svc_group' \
    --init-groups $exec_start"
rc=$?
set -e
echo "   exit $rc (success: $success_codes)"
[[ " $success_codes " == *" $rc "* ]] || fail "the run exited $rc, which the unit counts as a failure"
lines_after=$(wc -l <"$root$out_log")
new=$((lines_after - lines_before))
[ "$new" -gt 0 ] || fail "$out_log got no lines from the run"
if [ "$new" -le 8 ]; then
  tail -n "$new" "$root$out_log" | sed 's/^/   | /'
else
  tail -n "$new" "$root$out_log" | head -n 3 | sed 's/^/   | /'
  echo "   | … ($new lines)"
  tail -n 2 "$root$out_log" | sed 's/^/   | /'
fi
bad=$(tail -n "$new" "$root$out_log" | grep -Ev '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+' | head -n 1 || true)
[ -z "$bad" ] || fail "a log line without its timestamp: $bad"
reports=$(find "$root/var/lib/dossier/archive" -path '*/runs/*' -type f 2>/dev/null | wc -l)
[ "$reports" -gt 0 ] || fail "the run left no report under /var/lib/dossier/archive/runs"
archive_owner=$(in_root stat -c '%U:%G %a' /var/lib/dossier/archive)
[ "${archive_owner%% *}" = "$svc_user:$svc_group" ] || fail "the archive is $archive_owner"
echo "   archive /var/lib/dossier/archive $archive_owner, $reports run report files"
done_step

begin "5 the log after the night"
# The log folder's group reads it (postinst), and logrotate (su dossier dossier, copytruncate)
# must be able to rotate what systemd made.
log_mode=$(in_root stat -c '%U:%G %a' "$out_log")
echo "   $out_log $log_mode"
rotate=$(in_root logrotate -f -s /var/lib/logrotate/check-deb.status /etc/logrotate.d/dossier 2>&1) ||
  echo "   logrotate: $rotate"
[ "$log_mode" = "dossier:dossier 640" ] ||
  fail "$out_log is $log_mode, not dossier:dossier 640: the dossier group cannot read it, and logrotate (su dossier) cannot rotate it"
[ -s "$root$out_log.1" ] || fail "logrotate made no $out_log.1: $rotate"
[ ! -s "$root$out_log" ] || fail "logrotate (copytruncate) left $out_log with lines"
echo "   logrotate: $(in_root stat -c '%n %U:%G %a %s bytes' "$out_log.1")"
done_step

begin "5 apt purge"
in_root apt-get purge -y -q dossier >>"$run/apt.log" 2>&1 || fail "apt-get purge dossier: see $run/apt.log"
[ ! -e "$root/var/log/dossier" ] || fail "purge left /var/log/dossier"
[ -d "$root/var/lib/dossier/archive" ] || fail "purge deleted the archive"
[ ! -L "$root/etc/systemd/system/timers.target.wants/dossier-nightly.timer" ] ||
  fail "purge left the timer enabled (a dangling timers.target.wants link)"
echo "   /var/log/dossier gone, /var/lib/dossier/archive kept, timer link gone"
done_step

# --- 6. times -------------------------------------------------------------------------------
echo "== times"
printf '   %s\n' "${times[@]}"
awk -v a="$total_start" -v b="$EPOCHREALTIME" 'BEGIN { printf "   %-40s %7.1f s\n", "total", b - a }'
echo "check-deb: ok ($debname on Debian 12 bookworm, overlay left at $run)"
