// Stand-in for FlowInterruptedException: an abort (timeout, input rejected, branch stopped by
// fail-fast) with the result it leaves (ABORTED) and its causes.
package org.jenkinsci.plugins.workflow.steps

import jenkins.model.CauseOfInterruption

class FlowInterruptedException extends InterruptedException {
    final String result
    final List<CauseOfInterruption> causes

    FlowInterruptedException(String result, CauseOfInterruption... causes) {
        super(causes.collect { it.shortDescription }.join('; ') ?: result)
        this.result = result
        this.causes = causes as List
    }

    String getResult() { result }
    List<CauseOfInterruption> getCauses() { causes }
}
