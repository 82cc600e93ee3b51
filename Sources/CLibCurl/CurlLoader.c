#include "CLibCurl.h"
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

struct clibcurl_functions clibcurl;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int ready;
static char failure[512];

/* The OpenSSL flavour's soname, which libcurl4 (Debian, Ubuntu) ships; the package depends on it. */
static const char *const library = "libcurl.so.4";

static int resolve(void *handle, void **slot, const char *name) {
    *slot = dlsym(handle, name);
    if (*slot == NULL) snprintf(failure, sizeof failure, "%s has no %s", library, name);
    return *slot != NULL;
}

static void load(void) {
    void *handle = dlopen(library, RTLD_NOW | RTLD_LOCAL);
    if (handle == NULL) {
        const char *why = dlerror();
        snprintf(failure, sizeof failure, "%s", why != NULL ? why : library);
        return;
    }
    if (!(resolve(handle, (void **)&clibcurl.easy_init, "curl_easy_init")
          && resolve(handle, (void **)&clibcurl.easy_cleanup, "curl_easy_cleanup")
          && resolve(handle, (void **)&clibcurl.easy_perform, "curl_easy_perform")
          && resolve(handle, (void **)&clibcurl.easy_strerror, "curl_easy_strerror")
          && resolve(handle, (void **)&clibcurl.easy_setopt, "curl_easy_setopt")
          && resolve(handle, (void **)&clibcurl.easy_getinfo, "curl_easy_getinfo")
          && resolve(handle, (void **)&clibcurl.slist_append, "curl_slist_append")
          && resolve(handle, (void **)&clibcurl.slist_free_all, "curl_slist_free_all")
          && resolve(handle, (void **)&clibcurl.share_init, "curl_share_init")
          && resolve(handle, (void **)&clibcurl.share_setopt, "curl_share_setopt")))
        return;
    CURLcode (*global_init)(long) = NULL;
    if (!resolve(handle, (void **)&global_init, "curl_global_init")) return;
    CURLcode code = global_init(CURL_GLOBAL_DEFAULT);
    if (code != CURLE_OK) {
        snprintf(failure, sizeof failure, "curl_global_init failed (%d)", (int)code);
        return;
    }
    ready = 1;
}

const char *clibcurl_load(void) {
    pthread_once(&once, load);
    return ready ? NULL : failure;
}

static void *preload(void *unused) {
    (void)unused;
    clibcurl_load();
    return NULL;
}

/* exit() must not run OpenSSL's clean-up while the loader thread is still initialising OpenSSL: an engine
   that answered from the cache at once died of SIGSEGV about once in 100 runs (CRYPTO_THREAD_unlock of a
   lock the clean-up had freed). Exit waits for the load first; exit handlers run last registered first,
   so OpenSSL registers its clean-up before this wait is. Any option does it (0 returns at once); the
   error strings are what curl_global_init would load next, on the loader's time instead. */
static void finish_loading(void) {
    (void)clibcurl_load();
}

void clibcurl_preload(void) {
    pthread_t thread;
    pthread_attr_t attributes;
    if (OPENSSL_init_crypto(OPENSSL_INIT_LOAD_CRYPTO_STRINGS, NULL) != 1 || atexit(finish_loading) != 0) return;
    if (pthread_attr_init(&attributes) != 0) return;
    pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
    /* Without a thread the first request loads it: later, not wrong. */
    (void)pthread_create(&thread, &attributes, preload, NULL);
    pthread_attr_destroy(&attributes);
}
