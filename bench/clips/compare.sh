#!/usr/bin/env bash
# OrgOS's rules engine against CLIPS 6.30 (Debian's clips/libclips-dev, a Rete engine in C), side by side in
# one run. Same facts, same rules, same firings: for each workload the script generates the CLIPS rules,
# runs each side in its own process under /usr/bin/time -v (wall time, peak RSS), keeps the best of N runs,
# checks that both sides report the same firing counts (it fails otherwise) and prints a table.
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

if [[ ! -x $orgos ]]; then
  echo "compare.sh: $orgos is missing; build first (cmake --build --preset release)" >&2
  exit 1
fi

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

# OrgOS's conditions run as native code, as the engine runs them: by default linked from object code made
# beforehand (a bundle carries its object code, compiled once by `orgctl build`; the build step below is
# not timed, as CLIPS's rule file is written beforehand). ORGOS_EXEC=jit compiles in each timed process
# (LLVM codegen, ~0.3 s for 100 rules), ORGOS_EXEC=interp uses the interpreter.
orgos_exec=${ORGOS_EXEC:-object}
case $orgos_exec in
  object) orgos_mode=(object) ;;
  jit) orgos_mode=() ;;
  interp) orgos_mode=(interp) ;;
  *)
    echo "compare.sh: ORGOS_EXEC must be object, jit or interp (not '$orgos_exec')" >&2
    exit 2
    ;;
esac
if [[ $orgos_exec == object ]]; then
  for w in a b c r; do
    "$orgos" "$w" object "$work/$w.o" >/dev/null  # the build step: writes the object file
  done
fi

# run SIDE WORKLOAD: one process under /usr/bin/time -v; prints "seconds kbytes firings refirings phases"
run() {
  local out
  if [[ $1 == clips ]]; then
    out=$("${tunables[@]}" /usr/bin/time -v "$work/clips_driver" "$work/$2.clp" "$2" 2>&1)
  else
    local mode=("${orgos_mode[@]}")
    [[ $orgos_exec == object ]] && mode+=("$work/$2.o")
    out=$("${tunables[@]}" /usr/bin/time -v "$orgos" "$2" "${mode[@]}" 2>&1)
  fi
  local wall rss line
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, p, ":"); s = 0; for (i = 1; i <= n; ++i) s = s * 60 + p[i]; print s}' <<<"$out")
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' <<<"$out")
  line=$(grep '^workload' <<<"$out") || {
    echo "compare.sh: $1 $2 failed:" >&2
    echo "$out" >&2
    exit 1
  }
  local f1 f2 ph
  f1=$(sed -E 's/.*insert\+fire [0-9.]+ s \(([0-9]+) firings\).*/\1/' <<<"$line")
  f2=$(sed -E 's/.*modify\+refire [0-9.]+ s \(([0-9]+) firings\).*/\1/' <<<"$line")
  ph=$(sed -E 's/.*compile ([0-9.]+) s, insert\+fire ([0-9.]+) s.*modify\+refire ([0-9.]+) s.*/\1+\2+\3/' <<<"$line")
  echo "$wall $rss $f1 $f2 $ph"
}

# best SIDE WORKLOAD: the fastest of $repeat runs (its peak RSS is the largest seen)
best() {
  local bw="" br=0 bf="" bp=""
  for ((i = 0; i < repeat; ++i)); do
    read -r w r f1 f2 ph < <(run "$1" "$2")
    if [[ -z $bw ]] || awk "BEGIN {exit !($w < $bw)}"; then
      bw=$w
      bp=$ph
    fi
    ((r > br)) && br=$r
    if [[ -n $bf && $bf != "$f1/$f2" ]]; then
      echo "compare.sh: $1 $2 fired $f1/$f2, an earlier run $bf" >&2
      exit 1
    fi
    bf="$f1/$f2"
  done
  echo "$bw $br $bf $bp"
}

printf '%-3s %12s %10s %10s %7s %12s %12s %s\n' wl firings "CLIPS s" "OrgOS s" ratio "CLIPS KB" "OrgOS KB" \
  "phases compile+load+modify s (CLIPS | OrgOS)"
status=0
for w in a b c r; do
  read -r cw cr cf cp < <(best clips "$w")
  read -r ow or of op < <(best orgos "$w")
  if [[ -z ${cw:-} || -z ${ow:-} ]]; then
    echo "compare.sh: workload $w did not run (see above)" >&2
    exit 1
  fi
  if [[ $cf != "$of" ]]; then
    echo "compare.sh: workload $w: CLIPS fired $cf, OrgOS $of (insert/modify): the programs differ" >&2
    status=1
  fi
  ratio=$(awk "BEGIN {printf \"%.1fx\", $cw / $ow}")
  printf '%-3s %12s %10s %10s %7s %12s %12s %s | %s\n' "$w" "$of" "$cw" "$ow" "$ratio" "$cr" "$or" "$cp" "$op"
done
exit $status
