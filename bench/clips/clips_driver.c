/* The CLIPS side of bench/clips/compare.sh: the mirror of bench/rules_driver.cpp. It loads the rules that
 * compare.sh generated (deftemplates and defrules only, a few KB), then asserts the same facts through the
 * C API in a C loop, as the OrgOS driver inserts records from C++: no fact text is parsed. Rules have empty
 * right-hand sides (the OrgOS driver pops the agenda without running actions), so EnvRun's return value is
 * the number of firings. Built by compare.sh against Debian's libclips-dev (CLIPS 6.30).
 *
 *   clips_driver RULES.clp a|b|c|r
 *
 * c: modify 10% of the expenses and run again, with OrgOS's refraction (a match that still holds after
 *    the change does not fire again): the generated rules carry a `(not (fired ...))` control fact, the
 *    CLIPS idiom for "fire once per match", and assert it on firing.
 * r: the same change with CLIPS's own `modify` semantics (every match of a changed fact fires again). In
 *    6.30 `modify` is a retract and an assert of a copy with the new slot values, done here through the API.
 */
#include <clips/clips.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *env;

static void put_int(struct fact *f, const char *slot, long long v) {
  DATA_OBJECT d;
  SetType(d, INTEGER);
  SetValue(d, EnvAddLong(env, v));
  EnvPutFactSlot(env, f, slot, &d);
}

static void put_str(struct fact *f, const char *slot, void *sym) {
  DATA_OBJECT d;
  SetType(d, STRING);
  SetValue(d, sym);
  EnvPutFactSlot(env, f, slot, &d);
}

static struct fact *assert_fact(struct fact *f) {
  struct fact *a = (struct fact *)EnvAssert(env, f);
  if (!a) {
    fprintf(stderr, "clips_driver: assert failed\n");
    exit(1);
  }
  return a;
}

static struct fact *expense(void *tmpl, long long id, long long amount, void *cat) {
  struct fact *f = EnvCreateFact(env, tmpl);
  put_int(f, "oid", id);
  put_int(f, "amount", amount);
  put_str(f, "category", cat);
  return assert_fact(f);
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: clips_driver RULES.clp a|b|c|r\n");
    return 2;
  }
  char w = argv[2][0];
  double t0 = now();
  env = CreateEnvironment();
  if (EnvLoad(env, argv[1]) != 1) {
    fprintf(stderr, "clips_driver: cannot load %s\n", argv[1]);
    return 1;
  }
  EnvReset(env);
  double compile_s = now() - t0;
  double t1 = now();
  long long fired = 0, refired = 0;
  double modify_s = 0;
  struct fact **expenses = NULL;
  if (w == 'a' || w == 'c' || w == 'r') {
    void *t = EnvFindDeftemplate(env, "expense");
    void *cats[10];
    char name[8];
    for (int k = 0; k < 10; ++k) {
      snprintf(name, sizeof name, "c%d", k);
      cats[k] = EnvAddSymbol(env, name);
    }
    expenses = malloc(100000 * sizeof *expenses);
    for (long long i = 0; i < 100000; ++i) {
      expenses[i] = expense(t, i + 1, (i * 7919) % 10000, cats[i % 10]);
      EnvIncrementFactCount(env, expenses[i]); /* kept for the modification */
    }
    fired = EnvRun(env, -1);
    double load_s = now() - t1;
    if (w == 'c' || w == 'r') {
      double t2 = now();
      for (long long i = 0; i < 100000; i += 10) {
        struct fact *old = expenses[i];
        EnvRetract(env, old);
        EnvDecrementFactCount(env, old);
        expenses[i] = expense(t, i + 1, (i * 104729 + 13) % 10000, cats[i % 10]);
        EnvIncrementFactCount(env, expenses[i]);
      }
      refired = EnvRun(env, -1);
      modify_s = now() - t2;
    }
    printf("workload %c: compile %.4f s, insert+fire %.4f s (%lld firings), modify+refire %.4f s (%lld firings)\n",
           w, compile_s, load_s, fired, modify_s, refired);
    return 0;
  }
  if (w == 'b') {
    void *dept = EnvFindDeftemplate(env, "dept"), *training = EnvFindDeftemplate(env, "training"),
         *emp = EnvFindDeftemplate(env, "emp");
    long long id = 1;
    for (long long d = 0; d < 100; ++d) {
      struct fact *f = EnvCreateFact(env, dept);
      put_int(f, "oid", id++);
      put_int(f, "id", d);
      assert_fact(f);
    }
    for (long long k = 0; k < 200; ++k) {
      struct fact *f = EnvCreateFact(env, training);
      put_int(f, "oid", id++);
      put_int(f, "skill", k % 100);
      assert_fact(f);
    }
    for (long long i = 0; i < 20000; ++i) {
      struct fact *f = EnvCreateFact(env, emp);
      put_int(f, "oid", id++);
      put_int(f, "skill", i % 100);
      put_int(f, "unit", (i * 31) % 100);
      assert_fact(f);
    }
    fired = EnvRun(env, -1);
    printf("workload b: compile %.4f s, insert+fire %.4f s (%lld firings), modify+refire 0.0000 s (0 firings)\n",
           compile_s, now() - t1, fired);
    return 0;
  }
  fprintf(stderr, "clips_driver: unknown workload '%c' (expected a, b, c or r)\n", w);
  return 2;
}
