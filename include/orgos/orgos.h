/* OrgOS embedding API (C). For hosts in other languages: an opaque organization handle, functions that
 * return ORGOS_OK (0) on success and non-zero on error, and orgos_last_error() for the message.
 *
 * Errors: no call aborts or lets a C++ exception out, whatever the input or the state of the store (a
 * damaged row is the error of the call that reads it).
 *
 * Strings passed in are UTF-8 and copied. Strings returned are owned by the handle and kept per thread: one
 * is valid until the same thread's next call on the same handle, or until the handle is closed.
 *
 * Threads: a handle may be used from several threads at once; its calls are serialized by a lock inside.
 * orgos_close must not run while another thread still uses the handle.
 *
 * Handles: orgos_close(NULL) does nothing. A closed handle must not be used again, nor closed again: that is
 * undefined behaviour. Every call checks a marker in the handle on entry, so a closed handle whose memory has
 * not been reused yet (or a pointer that is not a handle at all) is answered with ORGOS_MISUSE (NULL from
 * the calls that return text) instead of being used; once the memory is reused, nothing can tell. */
#ifndef ORGOS_H
#define ORGOS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct orgos_org orgos_org;

/* What a call returns. */
enum orgos_code {
  ORGOS_OK = 0,
  ORGOS_ERROR = 1, /* refused or failed: orgos_last_error(org) says why */
  ORGOS_MISUSE = 2 /* org is NULL, closed, or not a handle: nothing was done */
};

/* Opens a project folder, .org file or .orgb bundle; store is a SQLite file or ":memory:" (NULL = memory).
 * Returns NULL on error; orgos_open_error() then says why (per thread, until the thread's next open). */
orgos_org* orgos_open(const char* path, const char* store);
const char* orgos_open_error(void);
/* NULL is a no-op. */
void orgos_close(orgos_org* org);

/* Inputs. key makes one idempotent: the same key again is accepted and applied once. NULL or "" means no
 * deduplication: the input gets a fresh key of its own, so every such call is a new input. */
int orgos_post_event(orgos_org* org, const char* event, const char* payload_json, const char* actor,
                     const char* key);
int orgos_start(orgos_org* org, const char* process, const char* args_json, const char* actor,
                const char* key, int64_t* instance_id);
int orgos_complete_task(orgos_org* org, int64_t task, const char* actor, const char* outcome,
                        const char* data_json, const char* key);
int orgos_decide(orgos_org* org, int64_t task, const char* actor, int approve, const char* key);
int orgos_advance_to(orgos_org* org, int64_t time, const char* key);

/* JSON arrays, in the shape of the server's tasks.list, instances.list and metrics.get (docs/embedding.md):
 * [{"id":…, "name":…, "role":…, "claimed_by":…, …}], [{"id":…, "process":…, "status":…, "started_at":…, …}],
 * [{"name":…, "value":…, "target":…, "verdict":…, "warn":…, "alert":…}]. NULL on error (orgos_last_error
 * says why): the metrics read the stored events on first use, so a damaged event row makes
 * orgos_metrics_json fail. Text that is not UTF-8 (a damaged row) is given with U+FFFD in place of the bad
 * bytes, so the JSON is always valid. */
const char* orgos_tasks_json(orgos_org* org);
const char* orgos_instances_json(orgos_org* org);
const char* orgos_metrics_json(orgos_org* org);

/* The message of this thread's last failed call on this handle ("" if it succeeded). Never NULL. */
const char* orgos_last_error(orgos_org* org);

#ifdef __cplusplus
}
#endif

#endif
