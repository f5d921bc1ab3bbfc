// The part of Jenkins' HTTP interface the Slack app talks to, on a loopback port: the crumb issuer
// (`GET /crumbIssuer/api/json`) and a waiting input's answers (`POST <build>/input/<id>/proceedEmpty`
// or `/abort`, with the crumb in the `Jenkins-Crumb` header). As in Jenkins, an answer to an input
// that is not waiting is a 404, and a POST without the crumb is a 403.
import com.sun.net.httpserver.HttpExchange
import com.sun.net.httpserver.HttpServer
import groovy.json.JsonOutput

import java.util.concurrent.BlockingQueue
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.Executors
import java.util.concurrent.LinkedBlockingQueue

class JenkinsHttp {
    final HttpServer server
    final String crumb = UUID.randomUUID().toString()
    final Map<String, BlockingQueue<Map>> waiting = new ConcurrentHashMap<>()
    final List<Map> requests = Collections.synchronizedList([])

    JenkinsHttp() {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getByName('127.0.0.1'), 0), 16)
        server.executor = Executors.newCachedThreadPool()
        server.createContext('/') { HttpExchange ex -> handle(ex) }
        server.start()
    }

    String url(String path) { "http://127.0.0.1:${server.address.port}${path}".toString() }

    void stop() {
        server.stop(0)
        server.executor.shutdownNow()
    }

    List requestsFor(String prefix) {
        synchronized (requests) { requests.findAll { it.path.startsWith(prefix) } }
    }

    /** Blocks until the input at `key` (`/job/x/1/input/Id/`) is answered; interruptible. */
    Map waitForInput(String key) {
        BlockingQueue<Map> q = new LinkedBlockingQueue<>()
        waiting[key] = q
        try {
            return q.take()
        } finally {
            waiting.remove(key)
        }
    }

    private void handle(HttpExchange ex) {
        String path = ex.requestURI.path
        String method = ex.requestMethod
        String auth = ex.requestHeaders.getFirst('Authorization')
        String user = null
        if (auth?.startsWith('Basic ')) user = new String(auth.substring(6).decodeBase64(), 'UTF-8').tokenize(':')[0]
        Map seen = [method: method, path: path, crumb: ex.requestHeaders.getFirst('Jenkins-Crumb') == crumb, user: user]
        requests << seen
        try {
            if (method == 'GET' && path == '/crumbIssuer/api/json') {
                respond(ex, 200, JsonOutput.toJson([_class: 'hudson.security.csrf.DefaultCrumbIssuer', crumb: crumb, crumbRequestField: 'Jenkins-Crumb']))
                return
            }
            def m = path =~ '^(/job/[^/]+/\\d+/input/[^/]+/)(proceedEmpty|abort)$'
            if (method == 'POST' && m.matches()) {
                if (!seen.crumb) {
                    respond(ex, 403, 'No valid crumb was included in the request')
                    return
                }
                BlockingQueue<Map> q = waiting[m.group(1)]
                if (q == null) {
                    respond(ex, 404, 'no such input is waiting')
                    return
                }
                q.put([decision: m.group(2) == 'abort' ? 'abort' : 'proceed', user: user ?: 'anonymous'])
                respond(ex, 200, '')
                return
            }
            respond(ex, 404, 'not found')
        } catch (Throwable e) {
            respond(ex, 500, e.toString())
        }
    }

    private static void respond(HttpExchange ex, int status, String body) {
        byte[] bytes = body.getBytes('UTF-8')
        ex.responseHeaders.add('Content-Type', body.startsWith('{') ? 'application/json' : 'text/plain')
        ex.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length)
        if (bytes.length) ex.responseBody.withStream { it.write(bytes) }
        ex.close()
    }
}
