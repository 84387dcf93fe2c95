// bench_reward.c: reward throughput. Scores the GSM8K test solutions (as
// completions of their own problems) with scripts/rewards/gsm8k.lua on 1 and
// 2 threads (or the counts given as arguments) and prints rewards/s.
//   bench_reward [threads...]   (RLC_DATA, RLC_SOURCE locate the data and scripts)
#include <stdlib.h>  // atoi, getenv
#include <string.h>  // strchr

#include "core/core.h"
#include "reward/reward.h"

#define MAX_SAMPLES 1319

int main(int argc, char **argv) {
    rlc_log_set_level(RLC_LOG_WARN);
    const char *data = getenv("RLC_DATA") ? getenv("RLC_DATA") : "../shared/data";
    const char *src = getenv("RLC_SOURCE") ? getenv("RLC_SOURCE") : ".";
    char path[1024], script[1024];
    snprintf(path, sizeof path, "%s/gsm8k/test.jsonl", data);
    snprintf(script, sizeof script, "%s/scripts/rewards/gsm8k.lua", src);
    char *buf;
    size_t len;
    if (rlc_read_file(path, &buf, &len) != RLC_OK) {
        fprintf(stderr, "bench_reward: %s\n", rlc_last_error());
        return 1;
    }
    static json_t *recs[MAX_SAMPLES];
    static rlc_sample samples[MAX_SAMPLES];
    static rlc_reward_result res[MAX_SAMPLES];
    int n = 0;
    for (char *p = buf; *p && n < MAX_SAMPLES;) {
        char *e = strchr(p, '\n');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        if (l && rlc_json_load_buffer(p, l, path, &recs[n]) == RLC_OK) {
            const char *sol = json_string_value(json_object_get(recs[n], "answer"));
            samples[n] = (rlc_sample){.prompt = json_string_value(json_object_get(recs[n], "question")),
                                      .completion = sol, .answer = sol, .example = recs[n],
                                      .finish_reason = "stop", .num_tokens = 150};
            n++;
        }
        p += l + (e != NULL);
    }
    rlc_free(buf);
    int counts[8] = {1, 2}, n_counts = 2;
    if (argc > 1) {
        n_counts = 0;
        for (int i = 1; i < argc && n_counts < 8; i++) counts[n_counts++] = atoi(argv[i]);
    }
    rlc_reward_func f = {.path = script, .weight = 1.0};
    rlc_reward_config cfg = {&f, 1, rlc_lua_default_limits(), 0.0};
    printf("bench_reward: %d GSM8K samples, scripts/rewards/gsm8k.lua\n", n);
    for (int c = 0; c < n_counts; c++) {
        rlc_reward_errors *errs = rlc_reward_errors_create();
        rlc_reward_pool *pool;
        if (rlc_reward_pool_create(&cfg, counts[c], errs, &pool) != RLC_OK) {
            fprintf(stderr, "bench_reward: %s\n", rlc_last_error());
            return 1;
        }
        rlc_reward_pool_score(pool, samples, (size_t)n, res);  // warm-up
        long done = 0;
        double t0 = rlc_now(), dt;
        do {
            rlc_reward_pool_score(pool, samples, (size_t)n, res);
            done += n;
            dt = rlc_now() - t0;
        } while (dt < 1.5);
        double mean = 0;
        for (int i = 0; i < n; i++) mean += res[i].score / n;
        printf("threads %d: %8.0f rewards/s (%.1f us each, mean score %.3f, failures %ld)\n", counts[c],
               (double)done / dt, 1e6 * dt / (double)done * counts[c], mean, rlc_reward_errors_total(errs));
        rlc_reward_pool_free(pool);
        rlc_reward_errors_free(errs);
    }
    for (int i = 0; i < n; i++) json_decref(recs[i]);
    return 0;
}
