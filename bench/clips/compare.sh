#!/usr/bin/env bash
# OrgOS's rules engine against CLIPS 6.30 (Debian's clips/libclips-dev, a Rete engine in C), side by side in
# one run. Same facts, same rules, same firings: for each workload the script generates the CLIPS rules,
# runs each side in its own process under /usr/bin/time -v (peak RSS), keeps the best of N runs, checks
# that both sides report the same firing counts (it fails otherwise) and prints a table.
#
# Time is reported two ways. Engine time: what each driver measures around its engine's work (inserting
# the facts and firing the agenda, then the modification and the refiring), the throughput the goal is
# about. Process time: the whole process from exec to exit (microseconds from bash's EPOCHREALTIME),
# which adds start-up and loading the rules (CLIPS parses its .clp file, OrgOS links a bundle's code).
#
#   bench/clips/compare.sh [BUILD_DIR] [REPEAT]     (defaults: build/release, 3; MXFAST=default: see run())
#
# Workloads (the OrgOS side is bench/rules_driver.cpp, the CLIPS side bench/clips/clips_driver.c; both
# insert the facts from compiled code through their engine's API, neither parses fact text):
#   a  100 threshold rules (category == "cK" and amount > T) over 100,000 expense facts
#   b  a three-way join: 20,000 employees x 200 trainings (by skill) x 100 departments (by unit)
#   c  a, then 10% of the expenses change their amount and the engine settles again; a match that
#      still holds does not fire again (OrgOS refraction; CLIPS: a `(not (fired ...))` control fact)
#   r  c with CLIPS `modify` semantics: every match of a changed fact fires again (OrgOS: retract+insert)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-$root/build/release}
repeat=${2:-3}
orgos=$build/bench/orgos_rules_driver
orgctl=$build/tools/orgctl/orgctl

for exe in "$orgos" "$orgctl"; do
  if [[ ! -x $exe ]]; then
    echo "compare.sh: $exe is missing; build first (cmake --build --preset release)" >&2
    exit 1
  fi
done

need=()
[[ -x /usr/bin/time ]] || need+=(time)
[[ -f /usr/include/clips/clips.h && -f /usr/lib/libclips.a ]] || need+=(libclips-dev)
command -v clips >/dev/null || need+=(clips)
command -v cc >/dev/null || need+=(gcc)
if ((${#need[@]})); then
  echo "compare.sh: installing ${need[*]}" >&2
  as_root=()
  [[ $(id -u) == 0 ]] || as_root=(sudo)
  "${as_root[@]}" apt-get install -y "${need[@]}" >/dev/null
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cc -O2 -o "$work/clips_driver" "$here/clips_driver.c" -lclips -lm

# ---- the CLIPS programs (the rules of bench/rules_driver.cpp's program(), written in CLIPS)
templates() {
  cat <<'EOF'
(deftemplate expense (slot oid) (slot amount) (slot category))
(deftemplate emp (slot oid) (slot skill) (slot unit))
(deftemplate training (slot oid) (slot skill))
(deftemplate dept (slot oid) (slot id))
(deftemplate fired (slot rule) (slot oid))
EOF
}
thresholds() {  # $1: plain | refraction
  for ((k = 0; k < 100; ++k)); do
    local cond="(expense (oid ?id) (category \"c$((k % 10))\") (amount ?a&:(> ?a $(((k * 97) % 10000)))))"
    if [[ $1 == plain ]]; then
      echo "(defrule t$k $cond =>)"
    else
      echo "(defrule t$k $cond (not (fired (rule $k) (oid ?id))) => (assert (fired (rule $k) (oid ?id))))"
    fi
  done
}
{ templates; thresholds plain; } >"$work/a.clp"
cp "$work/a.clp" "$work/r.clp"
{ templates; thresholds refraction; } >"$work/c.clp"
{
  templates
  echo "(defrule j (emp (skill ?s) (unit ?u)) (training (skill ?s)) (dept (id ?u)) =>)"
} >"$work/b.clp"

# Both processes run with glibc's fastbins off, the setting orgctl makes for itself (mallopt(M_MXFAST, 0) in
# tools/orgctl/main.cpp): with them, freeing and reallocating small blocks (an update) walks ever longer
# bins. MXFAST=default runs both with glibc's defaults instead.
if [[ ${MXFAST:-0} == default ]]; then
  tunables=()
else
  tunables=(env GLIBC_TUNABLES=glibc.malloc.mxfast=0)
fi

# OrgOS runs each workload as the engine runs a project in production: from a bundle `orgctl compile`
# wrote (IR and native object code; written here once, not timed, as CLIPS's rule file is written
# beforehand), whose object code the timed process links; conditions run as native code.
# ORGOS_EXEC=interp runs the same bundle's IR in the interpreter instead (its object code not linked).
orgos_exec=${ORGOS_EXEC:-bundle}
case $orgos_exec in
  bundle | interp) ;;
  *)
    echo "compare.sh: ORGOS_EXEC must be bundle or interp (not '$orgos_exec')" >&2
    exit 2
    ;;
esac
for w in a b c r; do
  "$orgos" "$w" source >"$work/$w.org"
  if ! msg=$("$orgctl" compile "$work/$w.org" -o "$work/$w.orgb" 2>&1); then
    echo "compare.sh: orgctl compile failed for workload $w:" >&2
    echo "$msg" >&2
    exit 1
  fi
done

# run SIDE WORKLOAD: one process under /usr/bin/time -v; prints
# "engine_s process_s kbytes firings/refirings phases"
run() {
  local cmd
  if [[ $1 == clips ]]; then
    cmd=("$work/clips_driver" "$work/$2.clp" "$2")
  elif [[ $orgos_exec == bundle ]]; then
    cmd=("$orgos" "$2" bundle "$work/$2.orgb")
  else
    cmd=("$orgos" "$2" interp "$work/$2.orgb")
  fi
  local out t0 t1
  t0=$EPOCHREALTIME
  out=$("${tunables[@]}" /usr/bin/time -v "${cmd[@]}" 2>&1)
  t1=$EPOCHREALTIME
  local rss line
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' <<<"$out")
  line=$(grep '^workload' <<<"$out") || {
    echo "compare.sh: $1 $2 failed:" >&2
    echo "$out" >&2
    exit 1
  }
  local f1 f2 c l m
  f1=$(sed -E 's/.*insert\+fire [0-9.]+ s \(([0-9]+) firings\).*/\1/' <<<"$line")
  f2=$(sed -E 's/.*modify\+refire [0-9.]+ s \(([0-9]+) firings\).*/\1/' <<<"$line")
  read -r c l m < <(sed -E 's/.*compile ([0-9.]+) s, insert\+fire ([0-9.]+) s.*modify\+refire ([0-9.]+) s.*/\1 \2 \3/' <<<"$line")
  awk -v c="$c" -v l="$l" -v m="$m" -v a="$t0" -v b="$t1" -v r="$rss" -v f="$f1/$f2" \
    'BEGIN {printf "%.4f %.4f %s %s %s+%s+%s\n", l + m, b - a, r, f, c, l, m}'
}

# best SIDE WORKLOAD: the fastest engine time and the fastest process time of $repeat runs (each its own
# best), and the largest peak RSS seen
best() {
  local be="" bp="" br=0 bf="" bph=""
  for ((i = 0; i < repeat; ++i)); do
    read -r e p r f ph < <(run "$1" "$2")
    if [[ -z $be ]] || awk "BEGIN {exit !($e < $be)}"; then
      be=$e
      bph=$ph
    fi
    if [[ -z $bp ]] || awk "BEGIN {exit !($p < $bp)}"; then bp=$p; fi
    ((r > br)) && br=$r
    if [[ -n $bf && $bf != "$f" ]]; then
      echo "compare.sh: $1 $2 fired $f, an earlier run $bf" >&2
      exit 1
    fi
    bf=$f
  done
  echo "$be $bp $br $bf $bph"
}

printf '%-3s %15s | %9s %9s %7s | %9s %9s %7s | %9s %9s | %s\n' wl "firings" "CLIPS s" "OrgOS s" ratio \
  "CLIPS s" "OrgOS s" ratio "CLIPS KB" "OrgOS KB" "phases load+insert/fire+modify s (CLIPS | OrgOS)"
printf '%-3s %15s | %27s | %27s | %19s |\n' "" "" "engine (insert+fire+modify)" "whole process" "peak RSS"
status=0
for w in a b c r; do
  read -r ce cp cr cf cph < <(best clips "$w")
  read -r oe op or of oph < <(best orgos "$w")
  if [[ -z ${ce:-} || -z ${oe:-} ]]; then
    echo "compare.sh: workload $w did not run (see above)" >&2
    exit 1
  fi
  if [[ $cf != "$of" ]]; then
    echo "compare.sh: workload $w: CLIPS fired $cf, OrgOS $of (insert/modify): the programs differ" >&2
    status=1
  fi
  er=$(awk "BEGIN {printf \"%.1fx\", $ce / $oe}")
  pr=$(awk "BEGIN {printf \"%.1fx\", $cp / $op}")
  printf '%-3s %15s | %9s %9s %7s | %9s %9s %7s | %9s %9s | %s | %s\n' "$w" "$of" "$ce" "$oe" "$er" "$cp" "$op" \
    "$pr" "$cr" "$or" "$cph" "$oph"
done
exit $status
