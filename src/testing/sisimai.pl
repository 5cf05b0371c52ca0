#!/usr/bin/perl
# Debian's Sisimai (libsisimai-perl) as a differential oracle: one JSON object a line for each
# recipient of each file given, in the shape of `fanout bounces classify`.
use strict;
use warnings;
use Sisimai;
use JSON::PP;

my $json = JSON::PP->new->canonical;
for my $file (@ARGV) {
    my $facts = Sisimai->make($file, 'delivered' => 1) || [];
    for my $fact (@$facts) {
        my $d = $fact->damn;
        # 4.x answers "softbounce" (1 soft, 0 hard, -1 neither); 5.x renamed it "hardbounce".
        my $hard = exists $d->{'hardbounce'} && defined $d->{'hardbounce'} ? $d->{'hardbounce'} : (defined $d->{'softbounce'} && $d->{'softbounce'} == 0 ? 1 : 0);
        print $json->encode({
            'file' => $file, 'recipient' => $d->{'recipient'}, 'status' => $d->{'deliverystatus'} // '',
            'reply_code' => $d->{'replycode'} // '', 'reason' => $d->{'reason'}, 'hard_bounce' => $hard ? JSON::PP::true : JSON::PP::false,
        }), "\n";
    }
}
