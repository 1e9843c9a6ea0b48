/* The same organization driven from C through <orgos/orgos.h>. */
#include <orgos/orgos.h>
#include <stdio.h>

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: c_host PROJECT\n");
    return 2;
  }
  orgos_org* org = orgos_open(argv[1], NULL);
  if (!org) {
    fprintf(stderr, "cannot open: %s\n", orgos_open_error());
    return 1;
  }
  if (orgos_post_event(org, "expense.submitted",
                       "{\"expense\": {\"amount\": \"90 USD\", \"category\": \"meals\", \"unit\": \"Engineering\","
                       " \"submitter\": \"noor\", \"purpose\": \"snacks\", \"incurred_on\": \"2026-01-05\"}}",
                       "system", "c-1") != 0)
    fprintf(stderr, "refused: %s\n", orgos_last_error(org));
  printf("tasks: %s\n", orgos_tasks_json(org));
  if (orgos_decide(org, 999999, "ben", 1, "c-2") != 0) printf("error as value: %s\n", orgos_last_error(org));
  orgos_close(org);
  return 0;
}
