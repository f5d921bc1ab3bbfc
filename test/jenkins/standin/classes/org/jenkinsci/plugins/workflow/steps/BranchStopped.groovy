// Stand-in for the cause a parallel branch gets when another branch failed under failFast.
package org.jenkinsci.plugins.workflow.steps

import jenkins.model.CauseOfInterruption

class BranchStopped extends CauseOfInterruption {
    final String failed
    BranchStopped(String failed) { this.failed = failed }
    String getShortDescription() { "Failed in branch ${failed}".toString() }
}
