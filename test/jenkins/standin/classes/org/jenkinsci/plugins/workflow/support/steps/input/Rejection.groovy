// Stand-in for the input step's Rejection cause (who aborted the input).
package org.jenkinsci.plugins.workflow.support.steps.input

import jenkins.model.CauseOfInterruption

class Rejection extends CauseOfInterruption {
    final String user
    Rejection(String user) { this.user = user }
    String getUser() { user }
    String getShortDescription() { "Rejected by ${user ?: 'anonymous'}".toString() }
}
