#ifndef CLIBCURL_H
#define CLIBCURL_H
#include <curl/curl.h>
#include <openssl/ssl.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/evp.h>
#include <openssl/err.h>

/* libcurl is opened with dlopen, not linked: loading it and the thirty libraries it needs takes about 5 ms
   (Debian links them with BIND_NOW), which clibcurl_preload overlaps with the keyring reads, and a `get`
   answered from the cache never pays it. Its functions, and the few of OpenSSL's (which it loads) that the
   TLS policy calls, are called through this table, filled once by clibcurl_load; the headers' own
   declarations stay unresolved, so a direct call fails to link. */
struct clibcurl_functions {
    CURL *(*easy_init)(void);
    void (*easy_cleanup)(CURL *);
    CURLcode (*easy_perform)(CURL *);
    const char *(*easy_strerror)(CURLcode);
    CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
    CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
    struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
    void (*slist_free_all)(struct curl_slist *);
    CURLSH *(*share_init)(void);
    CURLSHcode (*share_setopt)(CURLSH *, CURLSHoption, ...);
    __typeof__(BIO_new_file) *bio_new_file;
    __typeof__(BIO_free) *bio_free;
    __typeof__(PEM_read_bio_X509) *pem_read_bio_x509;
    __typeof__(ERR_clear_error) *err_clear_error;
    __typeof__(EVP_sha1) *evp_sha1;
    __typeof__(X509_digest) *x509_digest;
    __typeof__(SSL_CTX_get_cert_store) *ssl_ctx_get_cert_store;
    __typeof__(SSL_CTX_set_cert_verify_callback) *ssl_ctx_set_cert_verify_callback;
    __typeof__(SSL_CTX_set_verify) *ssl_ctx_set_verify;
    __typeof__(X509_STORE_CTX_get0_cert) *x509_store_ctx_get0_cert;
    __typeof__(X509_STORE_add_cert) *x509_store_add_cert;
};
extern struct clibcurl_functions clibcurl;

/* Loads libcurl and runs curl_global_init, once; waits while another thread is doing it. NULL when libcurl
   is ready, else why it is not (dlerror's words). Nothing below may be called before it returned NULL. */
const char *clibcurl_load(void);
/* Starts clibcurl_load on a thread of its own (once). */
void clibcurl_preload(void);

static inline CURL *clibcurl_easy_init(void) { return clibcurl.easy_init(); }
static inline void clibcurl_easy_cleanup(CURL *handle) { clibcurl.easy_cleanup(handle); }
static inline CURLcode clibcurl_easy_perform(CURL *handle) { return clibcurl.easy_perform(handle); }
static inline const char *clibcurl_easy_strerror(CURLcode code) { return clibcurl.easy_strerror(code); }
static inline struct curl_slist *clibcurl_slist_append(struct curl_slist *list, const char *line) { return clibcurl.slist_append(list, line); }
static inline void clibcurl_slist_free_all(struct curl_slist *list) { clibcurl.slist_free_all(list); }
static inline CURLSH *clibcurl_share_init(void) { return clibcurl.share_init(); }

/* curl_easy_setopt, curl_easy_getinfo and curl_share_setopt are variadic, which Swift cannot call: one
   typed wrapper for each kind of argument. */
static inline CURLcode clibcurl_set_long(CURL *handle, CURLoption option, long value) { return clibcurl.easy_setopt(handle, option, value); }
static inline CURLcode clibcurl_set_pointer(CURL *handle, CURLoption option, void *value) { return clibcurl.easy_setopt(handle, option, value); }
static inline CURLcode clibcurl_set_string(CURL *handle, CURLoption option, const char *value) { return clibcurl.easy_setopt(handle, option, value); }
static inline CURLcode clibcurl_set_off(CURL *handle, CURLoption option, curl_off_t value) { return clibcurl.easy_setopt(handle, option, value); }

typedef size_t (*clibcurl_data_callback)(char *, size_t, size_t, void *);
typedef CURLcode (*clibcurl_ssl_context_callback)(CURL *, void *, void *);
static inline CURLcode clibcurl_set_data_callback(CURL *handle, CURLoption option, clibcurl_data_callback callback) { return clibcurl.easy_setopt(handle, option, callback); }
static inline CURLcode clibcurl_set_ssl_context_callback(CURL *handle, clibcurl_ssl_context_callback callback) { return clibcurl.easy_setopt(handle, CURLOPT_SSL_CTX_FUNCTION, callback); }

static inline CURLcode clibcurl_get_long(CURL *handle, CURLINFO info, long *value) { return clibcurl.easy_getinfo(handle, info, value); }

/* OpenSSL, through the table. */
static inline BIO *clibssl_bio_new_file(const char *path, const char *mode) { return clibcurl.bio_new_file(path, mode); }
static inline void clibssl_bio_free(BIO *bio) { (void)clibcurl.bio_free(bio); }
static inline X509 *clibssl_pem_read_bio_x509(BIO *bio) { return clibcurl.pem_read_bio_x509(bio, NULL, NULL, NULL); }
static inline void clibssl_err_clear_error(void) { clibcurl.err_clear_error(); }
static inline int clibssl_sha1_digest(const X509 *certificate, unsigned char *digest, unsigned int *length) {
    return clibcurl.x509_digest(certificate, clibcurl.evp_sha1(), digest, length);
}
static inline X509_STORE *clibssl_ctx_get_cert_store(const SSL_CTX *context) { return clibcurl.ssl_ctx_get_cert_store(context); }
typedef int (*clibssl_verify_callback)(X509_STORE_CTX *, void *);
/* Replaces the chain check with `callback`, asked for every handshake with `argument`. */
static inline void clibssl_ctx_verify_with(SSL_CTX *context, clibssl_verify_callback callback, void *argument) {
    clibcurl.ssl_ctx_set_verify(context, SSL_VERIFY_PEER, NULL);
    clibcurl.ssl_ctx_set_cert_verify_callback(context, callback, argument);
}
static inline X509 *clibssl_store_ctx_get0_cert(const X509_STORE_CTX *store) { return clibcurl.x509_store_ctx_get0_cert(store); }
static inline int clibssl_store_add_cert(X509_STORE *store, X509 *certificate) { return clibcurl.x509_store_add_cert(store, certificate); }

typedef void (*clibcurl_lock_callback)(CURL *, curl_lock_data, curl_lock_access, void *);
typedef void (*clibcurl_unlock_callback)(CURL *, curl_lock_data, void *);
static inline CURLSHcode clibcurl_share_pointer(CURLSH *share, CURLSHoption option, void *value) { return clibcurl.share_setopt(share, option, value); }
static inline CURLSHcode clibcurl_share_long(CURLSH *share, CURLSHoption option, long value) { return clibcurl.share_setopt(share, option, value); }
static inline CURLSHcode clibcurl_share_lock(CURLSH *share, clibcurl_lock_callback lock, clibcurl_unlock_callback unlock) {
    CURLSHcode code = clibcurl.share_setopt(share, CURLSHOPT_LOCKFUNC, lock);
    return code != CURLSHE_OK ? code : clibcurl.share_setopt(share, CURLSHOPT_UNLOCKFUNC, unlock);
}
#endif
