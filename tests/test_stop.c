// test_stop.c: stop strings over streamed text: text that cannot start a
// stop string is released at once, a split stop string is caught, and the
// text before it is all that is shown.
#include <string.h>

#include "actor/stop.h"
#include "core/core.h"
#include "test.h"

static void feed(actor_stop *st, const char *const *pieces, int n, char *shown, int *matched_at) {
    shown[0] = '\0';
    *matched_at = -1;
    for (int i = 0; i < n; i++) {
        const char *out;
        size_t len;
        int matched;
        CHECK_OK(actor_stop_push(st, pieces[i], strlen(pieces[i]), &out, &len, &matched));
        strncat(shown, out, len);
        if (matched) {
            *matched_at = i;
            return;
        }
    }
    const char *out;
    size_t len;
    actor_stop_flush(st, &out, &len);
    strncat(shown, out, len);
}

int main(void) {
    const char *stops[] = {"</answer>", "\n\nQ:"};
    actor_stop *st;
    CHECK_OK(actor_stop_create(stops, 2, &st));
    char shown[256];
    int at;

    const char *a[] = {"The answer is <ans", "wer>42</", "ans", "wer> trailing"};
    feed(st, a, 4, shown, &at);
    CHECK_MSG(strcmp(shown, "The answer is <answer>42") == 0, "shown '%s'", shown);
    CHECK(at == 3);

    actor_stop_reset(st);
    const char *b[] = {"one\n", "\n", "two"};  // "\n\n" then not "Q:": released
    feed(st, b, 3, shown, &at);
    CHECK_MSG(strcmp(shown, "one\n\ntwo") == 0, "shown '%s'", shown);
    CHECK(at == -1);

    actor_stop_reset(st);
    const char *c[] = {"x\n\nQ: next"};
    feed(st, c, 1, shown, &at);
    CHECK_MSG(strcmp(shown, "x") == 0, "shown '%s'", shown);
    actor_stop_free(st);

    actor_stop *none;  // no stop strings: everything passes through
    CHECK_OK(actor_stop_create(NULL, 0, &none));
    const char *d[] = {"</answer>", "ok"};
    feed(none, d, 2, shown, &at);
    CHECK(strcmp(shown, "</answer>ok") == 0 && at == -1);
    actor_stop_free(none);
    return test_finish("test_stop");
}
