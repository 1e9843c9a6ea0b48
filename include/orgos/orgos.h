/* OrgOS embedding API (C). For hosts in other languages: an opaque organization handle, functions that
 * return 0 on success and non-zero on error, and orgos_last_error() for the message. Strings passed in
 * are UTF-8 and copied; strings returned are owned by the handle and valid until the next call on it. */
#ifndef ORGOS_H
#define ORGOS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct orgos_org orgos_org;

/* Opens a project folder, .org file or .orgb bundle; store is a SQLite file or ":memory:" (NULL = memory).
 * Returns NULL on error; orgos_open_error() then says why. */
orgos_org* orgos_open(const char* path, const char* store);
const char* orgos_open_error(void);
void orgos_close(orgos_org* org);

int orgos_post_event(orgos_org* org, const char* event, const char* payload_json, const char* actor,
                     const char* key);
int orgos_start(orgos_org* org, const char* process, const char* args_json, const char* actor,
                const char* key, int64_t* instance_id);
int orgos_complete_task(orgos_org* org, int64_t task, const char* actor, const char* outcome,
                        const char* data_json, const char* key);
int orgos_decide(orgos_org* org, int64_t task, const char* actor, int approve, const char* key);
int orgos_advance_to(orgos_org* org, int64_t time, const char* key);

/* JSON arrays: [{"id":…, "name":…, "role":…, …}], [{"id":…, "process":…, "status":…}], [{"name":…,
 * "value":…}]. */
const char* orgos_tasks_json(orgos_org* org);
const char* orgos_instances_json(orgos_org* org);
const char* orgos_metrics_json(orgos_org* org);

/* The message of the last failed call on this handle ("" if none). */
const char* orgos_last_error(orgos_org* org);

#ifdef __cplusplus
}
#endif

#endif
