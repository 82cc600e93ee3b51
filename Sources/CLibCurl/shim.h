#ifndef CLIBCURL_SHIM_H
#define CLIBCURL_SHIM_H
#include <curl/curl.h>
#include <openssl/ssl.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/evp.h>
#include <openssl/err.h>

/* curl_easy_setopt, curl_easy_getinfo and curl_share_setopt are variadic, which Swift cannot call: one
   typed wrapper for each kind of argument. */
static inline CURLcode clibcurl_set_long(CURL *handle, CURLoption option, long value) { return curl_easy_setopt(handle, option, value); }
static inline CURLcode clibcurl_set_pointer(CURL *handle, CURLoption option, void *value) { return curl_easy_setopt(handle, option, value); }
static inline CURLcode clibcurl_set_string(CURL *handle, CURLoption option, const char *value) { return curl_easy_setopt(handle, option, value); }
static inline CURLcode clibcurl_set_off(CURL *handle, CURLoption option, curl_off_t value) { return curl_easy_setopt(handle, option, value); }

typedef size_t (*clibcurl_data_callback)(char *, size_t, size_t, void *);
typedef CURLcode (*clibcurl_ssl_context_callback)(CURL *, void *, void *);
static inline CURLcode clibcurl_set_data_callback(CURL *handle, CURLoption option, clibcurl_data_callback callback) { return curl_easy_setopt(handle, option, callback); }
static inline CURLcode clibcurl_set_ssl_context_callback(CURL *handle, clibcurl_ssl_context_callback callback) { return curl_easy_setopt(handle, CURLOPT_SSL_CTX_FUNCTION, callback); }

static inline CURLcode clibcurl_get_long(CURL *handle, CURLINFO info, long *value) { return curl_easy_getinfo(handle, info, value); }

typedef void (*clibcurl_lock_callback)(CURL *, curl_lock_data, curl_lock_access, void *);
typedef void (*clibcurl_unlock_callback)(CURL *, curl_lock_data, void *);
static inline CURLSHcode clibcurl_share_pointer(CURLSH *share, CURLSHoption option, void *value) { return curl_share_setopt(share, option, value); }
static inline CURLSHcode clibcurl_share_long(CURLSH *share, CURLSHoption option, long value) { return curl_share_setopt(share, option, value); }
static inline CURLSHcode clibcurl_share_lock(CURLSH *share, clibcurl_lock_callback lock, clibcurl_unlock_callback unlock) {
    CURLSHcode code = curl_share_setopt(share, CURLSHOPT_LOCKFUNC, lock);
    return code != CURLSHE_OK ? code : curl_share_setopt(share, CURLSHOPT_UNLOCKFUNC, unlock);
}
#endif
