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
          && resolve(handle, (void **)&clibcurl.share_setopt, "curl_share_setopt")
          /* dlsym on libcurl's handle also searches the libraries it loaded: its libssl and libcrypto. */
          && resolve(handle, (void **)&clibcurl.bio_new_file, "BIO_new_file")
          && resolve(handle, (void **)&clibcurl.bio_free, "BIO_free")
          && resolve(handle, (void **)&clibcurl.pem_read_bio_x509, "PEM_read_bio_X509")
          && resolve(handle, (void **)&clibcurl.err_clear_error, "ERR_clear_error")
          && resolve(handle, (void **)&clibcurl.evp_sha1, "EVP_sha1")
          && resolve(handle, (void **)&clibcurl.x509_digest, "X509_digest")
          && resolve(handle, (void **)&clibcurl.ssl_ctx_get_cert_store, "SSL_CTX_get_cert_store")
          && resolve(handle, (void **)&clibcurl.ssl_ctx_set_cert_verify_callback, "SSL_CTX_set_cert_verify_callback")
          && resolve(handle, (void **)&clibcurl.ssl_ctx_set_verify, "SSL_CTX_set_verify")
          && resolve(handle, (void **)&clibcurl.x509_store_ctx_get0_cert, "X509_STORE_CTX_get0_cert")
          && resolve(handle, (void **)&clibcurl.x509_store_add_cert, "X509_STORE_add_cert")))
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

/* exit() must not tear OpenSSL down while the loader thread is still initialising it: an engine that
   answered from the cache at once died of SIGSEGV about once in 100 runs (CRYPTO_THREAD_unlock of a lock
   OpenSSL's exit handler had freed). So OpenSSL is initialised before anything else of the process uses
   it, without that handler (a process that exits needs no clean-up), and exit waits for the rest of the
   load. Where libcrypto is linked (the engine's certificates), that is done at once, on the caller's
   thread; elsewhere only the loader thread opens it. The error strings are what curl_global_init would
   load next. */
static int initialise_openssl(int mode) {
    void *crypto = dlopen("libcrypto.so.3", RTLD_NOW | RTLD_LOCAL | mode);
    int (*init_crypto)(uint64_t, const OPENSSL_INIT_SETTINGS *) = crypto != NULL ? dlsym(crypto, "OPENSSL_init_crypto") : NULL;
    return init_crypto != NULL && init_crypto(OPENSSL_INIT_NO_ATEXIT | OPENSSL_INIT_LOAD_CRYPTO_STRINGS, NULL) == 1;
}

static void *preload(void *initialised) {
    if (initialised == NULL) (void)initialise_openssl(0);
    clibcurl_load();
    return NULL;
}

static void finish_loading(void) {
    (void)clibcurl_load();
}

static pthread_once_t preloading = PTHREAD_ONCE_INIT;

static void start_preload(void) {
    pthread_t thread;
    pthread_attr_t attributes;
    void *initialised = initialise_openssl(RTLD_NOLOAD) ? &preloading : NULL;
    /* Without a thread the first request loads it: later, not wrong. */
    if (atexit(finish_loading) != 0 || pthread_attr_init(&attributes) != 0) return;
    pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
    (void)pthread_create(&thread, &attributes, preload, initialised);
    pthread_attr_destroy(&attributes);
}

void clibcurl_preload(void) {
    pthread_once(&preloading, start_preload);
}
