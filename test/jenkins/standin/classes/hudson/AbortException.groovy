// Stand-in for hudson.AbortException: what `error` and a failing `sh` throw (build result FAILURE).
package hudson

class AbortException extends IOException {
    AbortException(String message) { super(message) }
}
